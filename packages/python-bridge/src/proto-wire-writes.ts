// Protobuf wire writes for the hand-written encoders (execute-frame-encoder.ts): field sizes,
// varints and strings straight into a buffer, byte for byte as protobuf-es writes them.

// Strings up to these lengths are measured, and ASCII ones written, by a loop rather than a call
// into C++ (measured on Node 20: the loop wins below ~8 characters for the length, ~24 to write).
const SHORT_MEASURE = 8;
const SHORT_WRITE = 24;

/** One map entry (`key` = 1, `value` = 2) of lengths `lengths[at]` and `lengths[at + 1]`, after its tag. */
export function writeEntry(
  buf: Buffer,
  pos: number,
  key: string,
  value: string,
  lengths: Int32Array,
  at: number,
): number {
  const keyLen = lengths[at] as number;
  const valueLen = lengths[at + 1] as number;
  pos = writeVarint(buf, pos, field(keyLen) + field(valueLen));
  buf[pos++] = 0x0a;
  pos = writeString(buf, writeVarint(buf, pos, keyLen), key, keyLen);
  buf[pos++] = 0x12;
  return writeString(buf, writeVarint(buf, pos, valueLen), value, valueLen);
}

/** Bytes of a length-delimited field with a one-byte tag and `len` bytes of content. */
export function field(len: number): number {
  return 1 + varintSize(len) + len;
}

/** As {@link field}, for a proto3 string that is left out when empty. */
export function optionalField(len: number): number {
  return len === 0 ? 0 : field(len);
}

export function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Writes `v` (a uint32) as a varint at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/**
 * UTF-8 length of `s` as `TextEncoder` (and so protobuf-es) writes it: a lone surrogate becomes
 * U+FFFD, 3 bytes.
 */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n > SHORT_MEASURE) return Buffer.byteLength(s, "utf8");
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        bytes += 2;
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

export function writeString(buf: Buffer, pos: number, s: string, len: number): number {
  if (len <= SHORT_WRITE && len === s.length) return writeAscii(buf, pos, s);
  return pos + (buf as unknown as Utf8Writer).utf8Write(s, pos, len);
}

export function writeAscii(buf: Uint8Array, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
  return pos;
}

/** Node's UTF-8 writer on `Buffer.prototype` (what `write(s, offset, length, "utf8")` calls, without its argument checks). */
interface Utf8Writer {
  utf8Write(s: string, offset: number, length: number): number;
}

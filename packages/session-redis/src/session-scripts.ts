import { createHash } from "node:crypto";

/**
 * The Lua scripts behind every session operation: each runs atomically in Redis, so a version
 * check and the write it guards cannot be split by another host's write. One session is one
 * hash (`v` holds the version, `k:<key>` each value) under one key, so every script touches a
 * single key and works on Redis Cluster too. Versions start at the server's clock in
 * microseconds (never reused by a recreated session) and grow by one per write.
 */
export interface SessionScript {
  readonly source: string;
  readonly sha1: string;
}

function script(source: string): SessionScript {
  return { source, sha1: createHash("sha1").update(source).digest("hex") };
}

// ARGV[1] = idle TTL in ms; ARGV[2..] = fields to read (none: every field).
// Returns {version, {field, value, ...}} or {0} when the session does not exist.
export const getScript = script(`
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return {0} end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local out = {}
if #ARGV == 1 then
  out = redis.call('HGETALL', KEYS[1])
else
  for i = 2, #ARGV do
    local value = redis.call('HGET', KEYS[1], ARGV[i])
    if value then out[#out + 1] = ARGV[i]; out[#out + 1] = value end
  end
end
return {tonumber(v), out}
`);

// ARGV[1] = idle TTL in ms. Returns the version (0: no session) and slides the TTL.
export const versionScript = script(`
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return tonumber(v)
`);

// ARGV[1] = idle TTL in ms, ARGV[2] = expected version or '', ARGV[3..] = field, value pairs.
// Returns {1, new version} or {0, current version} when the expected version does not match.
export const setScript = script(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if ARGV[2] ~= '' and tonumber(ARGV[2]) ~= cur then return {0, cur} end
if #ARGV == 2 then
  if cur ~= 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
  return {1, cur}
end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local nv
if cur == 0 then
  local t = redis.call('TIME')
  local s = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('HSET', KEYS[1], 'v', s)
  nv = tonumber(s)
else
  nv = redis.call('HINCRBY', KEYS[1], 'v', 1)
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {1, nv}
`);

// ARGV[1] = idle TTL in ms, ARGV[2] = expected version or '', ARGV[3..] = fields to delete.
// Returns {1, new version} (0: no session) or {0, current version} on a mismatch.
export const deleteScript = script(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if ARGV[2] ~= '' and tonumber(ARGV[2]) ~= cur then return {0, cur} end
if cur == 0 then return {1, 0} end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if #ARGV == 2 then return {1, cur} end
for i = 3, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
return {1, redis.call('HINCRBY', KEYS[1], 'v', 1)}
`);

import { describe, expect, it } from "vitest";
import { describeValue } from "./describe-value.js";

describe("describeValue", () => {
  it.each([
    [Number.NaN, "`NaN` (number)"],
    [Number.POSITIVE_INFINITY, "`Infinity` (number)"],
    [-5, "`-5` (number)"],
    [null, "`null` (null)"],
    ["x", '`"x"` (string)'],
    [[1], "`[1]` (array)"],
  ])("%s → %s", (value, text) => {
    expect(describeValue(value)).toBe(text);
  });
});

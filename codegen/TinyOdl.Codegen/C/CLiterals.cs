using System.Globalization;

namespace TinyOdl.Codegen.C;

/// <summary>C spellings of exact float values, shared by every generated C file.</summary>
public static class CLiterals
{
    /// <summary>
    /// The shortest decimal that round-trips to the same binary32 (C compilers round decimal literals
    /// correctly), so constants are exact and still readable. Infinities and NaNs go through bit patterns.
    /// </summary>
    public static string Float(float v)
    {
        if (float.IsPositiveInfinity(v)) return "TINYODL_F32_BITS(0x7f800000u)";
        if (float.IsNegativeInfinity(v)) return "TINYODL_F32_BITS(0xff800000u)";
        if (float.IsNaN(v)) return $"TINYODL_F32_BITS(0x{BitConverter.SingleToUInt32Bits(v):x8}u)";
        if (v == 0f) return float.IsNegative(v) ? "-0.0f" : "0.0f";
        var s = v.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e");
        if (!s.Contains('.') && !s.Contains('e')) s += ".0";
        else if (!s.Contains('.') && s.Contains('e')) s = s.Replace("e", ".0e");
        return s + "f";
    }

    /// <summary>
    /// A binary16 value (given as the exact float it equals): the float literal converts exactly, so the cast
    /// to _Float16 is exact too (no double rounding).
    /// </summary>
    public static string Half(float exactHalfValue) => $"(_Float16){Float(exactHalfValue)}";

    public static string String(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>Comma-separated values, a fixed number per line, indented for an initializer.</summary>
    public static string Table<T>(IEnumerable<T> values, Func<T, string> format, int perLine = 8)
    {
        var lines = values.Select(format).Chunk(perLine).Select(chunk => "    " + string.Join(", ", chunk));
        return string.Join(",\n", lines);
    }
}

using System.Globalization;

namespace TinyOdl.Targets;

/// <summary>One line of the harness protocol (firmware/README.md): a keyword and its fields.</summary>
public sealed record ProtocolLine(string Keyword, IReadOnlyList<string> Fields)
{
    public string Field(string key)
    {
        for (int i = 1; i + 1 < Fields.Count; i += 2)
            if (Fields[i] == key) return Fields[i + 1];
        throw new FormatException($"protocol line '{this}' has no field '{key}'");
    }

    public ulong UInt(string key) => ulong.Parse(Field(key), CultureInfo.InvariantCulture);
    public float Float(string key) => Protocol.ParseF32(Field(key));
    public override string ToString() => string.Join(' ', Fields.Prepend(Keyword));
}

/// <summary>
/// A difference between the device and the C# evaluator: which tensor (or value), which element (-1 for a scalar),
/// expected and actual (bit patterns as 0x...).
/// </summary>
public sealed record Mismatch(string Tensor, int Index, string Expected, string Actual)
{
    public override string ToString() => $"{Tensor}{(Index >= 0 ? $"[{Index}]" : "")}: expected {Expected}, got {Actual}";
}

/// <summary>Parses the harness's output and compares it with what the evaluator predicts, bit for bit.</summary>
public static class Protocol
{
    public static string Hex(float v) => BitConverter.SingleToUInt32Bits(v).ToString("x8", CultureInfo.InvariantCulture);
    public static float ParseF32(string hex) => BitConverter.UInt32BitsToSingle(uint.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    public static IReadOnlyList<ProtocolLine> Parse(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.Length > 0)
            .Select(p => new ProtocolLine(p[0], p[1..]))
            .ToArray();

    /// <summary>
    /// The outputs of the `predict i hex...` lines, in order: exact floats from the printed bit patterns. The
    /// lines must be numbered 0, 1, ... and each must hold <paramref name="outputSize"/> values.
    /// </summary>
    public static IReadOnlyList<float[]> Predictions(IReadOnlyList<ProtocolLine> lines, int outputSize)
    {
        var result = new List<float[]>();
        foreach (var line in lines.Where(l => l.Keyword == "predict"))
        {
            if (line.Fields.Count == 0 || line.Fields[0] != result.Count.ToString(CultureInfo.InvariantCulture))
                throw new FormatException($"protocol line '{line}' should be predict {result.Count}");
            if (line.Fields.Count - 1 != outputSize)
                throw new FormatException($"protocol line 'predict {line.Fields[0]}' has {line.Fields.Count - 1} values, the model outputs {outputSize}");
            result.Add(line.Fields.Skip(1).Select(ParseF32).ToArray());
        }
        return result;
    }

    /// <summary>Fields that describe the run but not its numerics: counters differ between toolchains by design.</summary>
    private static readonly HashSet<string> PerformanceFields =
        ["instret", "cycles", "instret_first", "instret_min", "instret_max", "cycles_first"];

    /// <summary>
    /// Every numeric field of every line must match: losses, loss sums, accuracies, parameters and predictions.
    /// Performance counters are ignored. Returns the mismatches (empty when bit-exact).
    /// </summary>
    public static IReadOnlyList<Mismatch> Compare(IReadOnlyList<ProtocolLine> expected, IReadOnlyList<ProtocolLine> actual)
    {
        // Profiling lines are measurements only; the evaluator does not predict them.
        actual = actual.Where(l => l.Keyword != "region").ToArray();
        var result = new List<Mismatch>();
        int n = Math.Max(expected.Count, actual.Count);
        for (int i = 0; i < n; i++)
        {
            var e = i < expected.Count ? expected[i] : null;
            var a = i < actual.Count ? actual[i] : null;
            if (e is null || a is null || e.Keyword != a.Keyword)
            {
                result.Add(new Mismatch($"line {i + 1}", -1, e?.ToString() ?? "(end of output)", a?.ToString() ?? "(end of output)"));
                break; // later lines are misaligned
            }
            CompareLine(e, a, result);
        }
        return result;
    }

    /// <summary>Float fields are bit patterns: show them as such.</summary>
    private static string Show(string key, string value) => key is "loss" or "loss_sum" ? "0x" + value : value;

    private static void CompareLine(ProtocolLine e, ProtocolLine a, List<Mismatch> result)
    {
        switch (e.Keyword)
        {
            case "param":
            case "predict":
            {
                string tensor = e.Keyword == "param" ? e.Fields[0] : $"predict[{e.Fields[0]}]";
                int skip = e.Keyword == "param" ? 2 : 1;
                if (a.Fields.Count != e.Fields.Count || a.Fields[0] != e.Fields[0])
                {
                    result.Add(new Mismatch(tensor, -1, $"{e.Fields.Count - skip} elements", $"{a.Fields.Count - skip} elements of {a.Fields[0]}"));
                    return;
                }
                for (int j = skip; j < e.Fields.Count; j++)
                    if (e.Fields[j] != a.Fields[j]) result.Add(new Mismatch(tensor, j - skip, "0x" + e.Fields[j], "0x" + a.Fields[j]));
                return;
            }
            default:
            {
                string subject = e.Keyword switch
                {
                    "step" => $"step {e.Fields[0]}",
                    "epoch" => $"epoch {e.Fields[0]}",
                    _ => e.Keyword,
                };
                // Field 0 names the subject (model name, step or epoch number); key/value pairs follow.
                if (e.Fields.Count > 0 && (a.Fields.Count == 0 || e.Fields[0] != a.Fields[0]))
                    result.Add(new Mismatch(e.Keyword, -1, e.Fields[0], a.Fields.Count == 0 ? "(missing)" : a.Fields[0]));
                for (int j = 1; j + 1 < e.Fields.Count; j += 2)
                {
                    if (PerformanceFields.Contains(e.Fields[j])) continue;
                    string key = e.Fields[j];
                    string? got = null;
                    for (int k = 1; k + 1 < a.Fields.Count; k += 2)
                        if (a.Fields[k] == key) got = a.Fields[k + 1];
                    if (got != e.Fields[j + 1])
                        result.Add(new Mismatch($"{subject} {key}", -1, Show(key, e.Fields[j + 1]), got is null ? "(missing)" : Show(key, got)));
                }
                return;
            }
        }
    }
}

using System.Globalization;
using TinyOdl.Evaluation;
using TinyOdl.Kernels;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// Runs a kernel-IR scalar function (MathLibrary.Exp / Log) on the C# evaluator over many inputs: a one-kernel
/// program whose predict() maps input[i] to output[i] = f(input[i]). Inputs go through in fixed-size chunks
/// (the last one padded; a small program serves the last few values) so each program is compiled once.
/// </summary>
internal sealed class ScalarProbe
{
    private const int LargeChunk = 1 << 18, SmallChunk = 64;
    private readonly Evaluator _large, _small;

    public ScalarProbe(ScalarFunction function)
    {
        _large = MapProgram(function, LargeChunk);
        _small = MapProgram(function, SmallChunk);
    }

    private static Evaluator MapProgram(ScalarFunction function, int n)
    {
        var k = new KernelBuilder();
        var x = k.Input("x", ScalarType.F32, n);
        var y = k.Output("y", ScalarType.F32, n);
        k.For("i", 0, n, i => k.Store(y, i, function.Invoke(x[i])));
        var kernel = k.BuildKernel($"map_{function.Name}_{n}");
        var input = ProgramBuffer.External("input", ScalarType.F32, n);
        var target = ProgramBuffer.External("target", ScalarType.F32, 1);
        var output = ProgramBuffer.External("output", ScalarType.F32, n);
        var program = new KernelProgram("probe_" + function.Name, 0, [input, target, output],
            new EntryPoint("init", [], [], null),
            new EntryPoint("train_step", [input, target], [], null),
            new EntryPoint("predict", [input, output], [new KernelCall(kernel, [input, output], "output = f(input)")], null),
            [], n, 1, n);
        return new Evaluator(program);
    }

    public float[] Map(IReadOnlyList<float> xs)
    {
        var result = new float[xs.Count];
        for (int start = 0; start < xs.Count;)
        {
            int remaining = xs.Count - start;
            var (ev, chunk) = remaining > SmallChunk ? (_large, LargeChunk) : (_small, SmallChunk);
            int n = Math.Min(chunk, remaining);
            var inBuf = new float[chunk];
            var outBuf = new float[chunk];
            for (int i = 0; i < n; i++) inBuf[i] = xs[start + i];
            ev.Predict(inBuf, outBuf);
            Array.Copy(outBuf, 0, result, start, n);
            start += n;
        }
        return result;
    }

    public float Map(float x) => Map([x])[0];

    /// <summary>Indices of xs in ascending order of value (for monotonicity checks).</summary>
    public static int[] AscendingOrder(IReadOnlyList<float> xs)
    {
        var keys = xs.ToArray();
        var idx = Enumerable.Range(0, keys.Length).ToArray();
        Array.Sort(keys, idx);
        return idx;
    }
}

/// <summary>Error of a float32 result in units in the last place of the exact (float64) value.</summary>
internal static class Ulp
{
    /// <summary>
    /// ulp(v) = 2^(max(floor(log2 |v|), -126) - 23): the spacing of float32 numbers in v's binade (2^-149 for
    /// subnormals). Infinite results: 0 if both are infinite with the same sign, +inf otherwise.
    /// </summary>
    public static double Error(float actual, double exact)
    {
        if (double.IsNaN(exact) || float.IsNaN(actual)) return double.IsNaN(exact) && float.IsNaN(actual) ? 0 : double.PositiveInfinity;
        bool exactOverflows = Math.Abs(exact) >= Math.ScaleB(2.0 - Math.ScaleB(1.0, -24), 127); // rounds to inf in f32
        if (float.IsInfinity(actual) || exactOverflows || double.IsInfinity(exact))
        {
            double e = exactOverflows ? Math.CopySign(double.PositiveInfinity, exact) : exact;
            if (float.IsInfinity(actual) && double.IsInfinity(e)) return Math.Sign(actual) == Math.Sign(e) ? 0 : double.PositiveInfinity;
            if (float.IsInfinity(actual) || double.IsInfinity(exact)) return double.PositiveInfinity;
            // Finite actual, exact between FLT_MAX and the rounding threshold: measure in the top binade.
        }
        return Math.Abs(actual - exact) / Of(exact);
    }

    public static double Of(double v)
    {
        v = Math.Abs(v);
        int e = v == 0 ? -126 : Math.Max(Math.ILogB(v), -126);
        return Math.ScaleB(1.0, e - 23);
    }

    public static string Describe(float x) =>
        string.Create(CultureInfo.InvariantCulture, $"{x:R} (0x{BitConverter.SingleToUInt32Bits(x):X8})");
}

/// <summary>The largest ULP error of a sweep and where it occurred.</summary>
internal sealed class UlpStats(string what)
{
    public string What { get; } = what;
    public long Count { get; private set; }
    public double Max { get; private set; }
    public float WorstInput { get; private set; }
    public float WorstOutput { get; private set; }
    public double WorstExact { get; private set; }
    private readonly long[] _halfUlpHistogram = new long[6];

    public void Add(IReadOnlyList<float> xs, IReadOnlyList<float> ys, Func<double, double> exact)
    {
        for (int i = 0; i < xs.Count; i++) Add(xs[i], ys[i], exact(xs[i]));
    }

    public void Add(float x, float y, double exact)
    {
        Count++;
        double e = Ulp.Error(y, exact);
        _halfUlpHistogram[(int)Math.Min(_halfUlpHistogram.Length - 1, Math.Floor(e * 2))]++;
        if (Count == 1 || e > Max)
        {
            Max = e;
            WorstInput = x;
            WorstOutput = y;
            WorstExact = exact;
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{What}: {Count} inputs, max error {Max:F4} ULP at x = {Ulp.Describe(WorstInput)}: got {WorstOutput:R}, exact {WorstExact:R}; " +
        $"histogram [0,0.5) [0.5,1) [1,1.5) [1.5,2) [2,2.5) >=2.5 ULP: {string.Join(" ", _halfUlpHistogram)}");
}

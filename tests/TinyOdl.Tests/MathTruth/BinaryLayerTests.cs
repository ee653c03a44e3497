using CsCheck;
using TinyOdl.Graph;
using Xunit.Abstractions;
using static TinyOdl.Tests.MathTruth.RoundingBounds;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// Binary layers (XNOR-Net style, docs/BINARY.md) against their definition in float64, written here from the formulas:
/// sign(v) = -1 if v &lt; 0 else +1 (+0, -0 and NaN are +1), the +-1 dot product is the float64 convolution
/// (<see cref="Float64Cnn.Conv2d"/>) of the signs (zero padding: padded taps contribute 0; one padding: the signs framed
/// by +1 and convolved unpadded), alpha[o] = mean |W[o]|, y = alpha * dot (+ b).
/// <para>Forward, exactly. The dot product is an integer, so the only rounding errors are alpha's and the output
/// transform's, and both can be reproduced in the test:</para>
/// <list type="bullet">
/// <item>alpha: |W| summed in ascending tap order in binary32 (every policy), divided by the tap count, rounded to storage.
/// fp32 and fp16-mixed sum in C# float arithmetic (IEEE binary32, no extended precision in RyuJIT); fp16 sums in binary16,
/// each add emulated as the exact float64 sum of two binary16 values rounded to binary16, and the division as the float64
/// quotient rounded to binary16 (a double rounding that is innocuous: 53 &gt;= 2 * 11 + 2).</item>
/// <item>output: alpha * dot in float64 is exact (a 24-bit significand times an integer below 2^29), so
/// (float)(alpha_f32 * dot) is the one correctly rounded binary32 product the kernel computes. With a bias the kernel's
/// fmaf(alpha, dot, b) is the exact alpha * dot + b rounded once; that sum is exact in float64 whenever its terms span at
/// most 53 bits (checked with TwoSum; otherwise the reference falls back to MathF.FusedMultiplyAdd). fp16 rounds the exact
/// value to binary16 once (|dot| &lt;= 2048 converts exactly, and binary16 terms always span fewer than 53 bits);
/// fp16-mixed rounds to binary32 (fmaf), then to binary16 storage.</item>
/// </list>
/// The evaluator must match these bit for bit. Against the float64 truth (alpha = the exact mean of the stored weights) the
/// justified bound is, on the magnitude alpha |dot| + |b|: A + T + A T, with A = gamma_K(u32) for alpha (K - 1 adds and
/// a division of non-negative terms in binary32; plus u16 for its rounding to binary16 storage) and T = u_acc for the
/// output's rounding (u32 + u16 for fp16-mixed's two roundings); u32 = 2^-24, u16 = 2^-11.
/// <para>Backward, one SGD step (no momentum) of pre (an identity layer, so the binary layer's input has a gradient and
/// equals the model input) -&gt; binary layer -&gt; linear -&gt; MSE or softmax cross-entropy, against the float64
/// straight-through reference (dx = conv input gradient with alpha sign(W), masked by -1 &lt;= x &lt;= 1; dW = alpha times
/// the conv weight gradient with sign(x), masked by -1 &lt;= W &lt;= 1; db = sum of dy; W clipped to [-1, 1] after the
/// update), normwise; the masks, the clipping and the update kernel exactly.</para>
/// </summary>
public sealed class BinaryLayerTests(ITestOutputHelper output)
{
    /// <summary>A: alpha's relative error bound (K - 1 adds and one division in the accumulation type, then storage).</summary>
    private static double AlphaBound(Precision p, int taps) => (Gamma(taps, U32) + (p == Precision.Fp32 ? 0 : U16)) * 1.001;

    /// <summary>T: the output transform's relative error bound (one rounding; fp16-mixed rounds to binary32, then binary16).</summary>
    private static double TransformBound(Precision p) => (RoundingBounds.Unit(p) + (p == Precision.Fp16Mixed ? U16 : 0)) * 1.001;

    private static double TruthBound(Precision p, int taps)
    {
        double a = AlphaBound(p, taps), t = TransformBound(p);
        return (a + t + a * t) * 1.001;
    }

    // ---- The float64 definition.

    /// <summary>sign(v) = -1 if v &lt; 0 else +1: +0, -0 and NaN are +1.</summary>
    private static double[] Signs(IReadOnlyList<float> v) => v.Select(x => x < 0 ? -1.0 : 1.0).ToArray();

    private static bool InUnitInterval(double v) => v >= -1 && v <= 1;

    /// <summary>A [C, H, W] tensor inside a frame of +1 (the one-padding border), and the unpadded window over it.</summary>
    private static (double[] X, Window2d Window) FramedByOnes(double[] x, int channels, Window2d w)
    {
        int fh = w.Height + w.PadTop + w.PadBottom, fw = w.Width + w.PadLeft + w.PadRight;
        var y = new double[channels * fh * fw];
        Array.Fill(y, 1.0);
        for (int ch = 0; ch < channels; ch++)
            for (int r = 0; r < w.Height; r++)
                for (int c = 0; c < w.Width; c++)
                    y[(ch * fh + r + w.PadTop) * fw + c + w.PadLeft] = x[(ch * w.Height + r) * w.Width + c];
        return (y, new Window2d(fh, fw, w.KernelH, w.KernelW, w.StrideH, w.StrideW));
    }

    /// <summary>
    /// For a linear map f, the gradient of &lt;dy, f(v)&gt; with respect to v: component i is &lt;dy, f(e_i)&gt; (the
    /// adjoint, by the definition of the derivative; no transposed loops to get wrong).
    /// </summary>
    private static double[] Adjoint(Func<double[], double[]> f, int n, double[] dy)
    {
        var g = new double[n];
        var e = new double[n];
        for (int i = 0; i < n; i++)
        {
            e[i] = 1;
            var column = f(e);
            e[i] = 0;
            for (int j = 0; j < dy.Length; j++) g[i] += dy[j] * column[j];
        }
        return g;
    }

    /// <summary>The exact a + b, or null when float64 cannot hold it (TwoSum's error term is not 0).</summary>
    private static double? ExactSum(double a, double b)
    {
        double s = a + b, bv = s - a, err = (a - (s - bv)) + (b - bv);
        return err == 0 ? s : null;
    }

    /// <summary>fmaf(a, dot, b): the exact a * dot + b (a * dot is exact in float64) rounded once to binary32.</summary>
    private static float Fmaf(float a, double dot, float b) =>
        ExactSum(a * dot, b) is double s ? (float)s : MathF.FusedMultiplyAdd(a, (float)dot, b);

    /// <summary>fma in binary16: the exact value of binary16 terms always fits float64; rounded once to binary16.</summary>
    private static float Fma16(double a, double x, double b) =>
        (float)(Half)(ExactSum(a * x, b) ?? throw new InvalidOperationException($"{a} * {x} + {b} is not exact in float64"));

    /// <summary>alpha as the layer's precision defines it (see the class summary).</summary>
    private static float Alpha(Precision p, ReadOnlySpan<float> w)
    {
        float s = 0f;
        foreach (var v in w) s += MathF.Abs(v);
        float alpha = s / w.Length;
        return p == Precision.Fp32 ? alpha : (float)(Half)alpha;
    }

    /// <summary>
    /// a * x (+ b) as the kernels compute it: one rounding in the accumulation type (a fused multiply-add with b), then one
    /// to storage; a, x and b are values of the storage type. The output transform (a = alpha, x = the dot product) and
    /// the SGD update (a = -lr, x = the gradient, b = the weight) both have this form.
    /// </summary>
    private static float FmaStore(Precision p, float a, double x, float? b)
    {
        double product = a * x; // exact: two significands of at most 24 bits (x an integer below 2^29 or a float)
        return p switch
        {
            Precision.Fp32 => b is { } v ? Fmaf(a, x, v) : (float)product,
            Precision.Fp16 => b is { } v ? Fma16(a, x, v) : (float)(Half)product,
            _ => (float)(Half)(b is { } v ? Fmaf(a, x, v) : (float)product),
        };
    }

    /// <summary>
    /// A binary layer named "op" under test: BinaryConv2d over Input, or BinaryLinear (a 1x1 convolution of a 1x1 image
    /// whose channels are the input's elements, in CHW order).
    /// </summary>
    public sealed record BinaryCase(Shape Input, int Out, int Groups, Window2d Window, BinaryPadding Padding, bool Bias, bool IsLinear, int Seed)
    {
        public int In => IsLinear ? Input.Elements : Input[0];
        public int Taps => In / Groups * Window.KernelArea;
        public Window2d Effective => IsLinear ? new Window2d(1, 1, 1, 1) : Window;

        public static BinaryCase Linear(Shape input, int outFeatures, bool bias, int seed) =>
            new(input, outFeatures, 1, new Window2d(1, 1, 1, 1), BinaryPadding.Zero, bias, true, seed);

        public Value Add(ModelBuilder b, Value x, float[] weight, float[]? bias) => IsLinear
            ? b.BinaryLinear("op", x, Out, Bias, weight: weight, biasValues: bias)
            : b.BinaryConv2d("op", x, Out, Window, Groups, Bias, Padding, weight: weight, biasValues: bias);

        /// <summary>The +-1 dot products, [out][pixel]: the convolution of the signs (linear in either argument).</summary>
        public double[] Dots(double[] sx, double[] sw)
        {
            if (Padding == BinaryPadding.Zero || !Effective.HasPadding) return Float64Cnn.Conv2d(sx, In, Effective, sw, null, Out, Groups);
            var (framed, window) = FramedByOnes(sx, In, Effective);
            return Float64Cnn.Conv2d(framed, In, window, sw, null, Out, Groups);
        }

        public override string ToString() => IsLinear
            ? $"binary_linear {Input}->{Out} bias={Bias} seed {Seed}"
            : $"binary_conv2d {In}->{Out} g{Groups} {Window.Height}x{Window.Width} k{Window.KernelH}x{Window.KernelW} s{Window.StrideH}x{Window.StrideW} " +
              $"pads[{Window.PadTop},{Window.PadLeft},{Window.PadBottom},{Window.PadRight}] {Padding} padding bias={Bias} seed {Seed}";
    }

    /// <summary>
    /// Values exactly representable in binary16 (so every precision sees the same ones), uniform in [-range, range], a
    /// quarter of them edge values: +0, -0, +-1, +-2^-24 (the smallest binary16 subnormal: sign -1 for the negative one),
    /// +-1.5 (beyond the straight-through and clipping bounds), and NaN (sign +1) when asked.
    /// </summary>
    private static float[] Values(Random rng, int n, float range, bool nan = false)
    {
        float tiny = (float)Math.ScaleB(1.0, -24);
        float[] edges = nan ? [0f, -0f, 1f, -1f, tiny, -tiny, 1.5f, -1.5f, float.NaN] : [0f, -0f, 1f, -1f, tiny, -tiny, 1.5f, -1.5f];
        var a = new float[n];
        for (int i = 0; i < n; i++)
            a[i] = rng.Next(4) == 0 ? edges[rng.Next(edges.Length)] : (float)(Half)(range * (2 * rng.NextDouble() - 1));
        return a;
    }

    /// <summary>Puts each value at three random positions, so that every case holds it whatever the draw.</summary>
    private static void Plant(Random rng, float[] a, params float[] values)
    {
        foreach (var v in values)
            for (int k = 0; k < 3; k++) a[rng.Next(a.Length)] = v;
    }

    /// <summary>Errors measured over forward checks: bit-exact outputs and alphas, and the bounds against float64.</summary>
    private sealed class ForwardAgreements(string what, Precision p)
    {
        public Agreement Exact { get; } = new($"{what} {p.Name()}: outputs and alpha vs the emulated rounding (bit-exact)", 0, 0);
        public Agreement Alpha { get; } = new($"{what} {p.Name()}: alpha vs the float64 mean |W| (bound A)", 0, 0);
        public Agreement Transform { get; } = new($"{what} {p.Name()}: output vs alpha * dot + b (bound T)", 0, 0);
        public Agreement Truth { get; } = new($"{what} {p.Name()}: output vs the float64 truth (bound A + T + AT)", 0, 0);
        public UlpStats Ulps { get; } = new($"{what} {p.Name()}: output vs alpha * dot + b in binary32 ULPs");

        public void Verify(ITestOutputHelper output)
        {
            foreach (var a in new[] { Exact, Alpha, Transform, Truth }) a.Verify(output);
            if (p == Precision.Fp32)
            {
                output.WriteLine(Ulps.ToString());
                Assert.True(Ulps.Max <= 0.5, Ulps.ToString());
            }
        }
    }

    /// <summary>Builds the single-layer model, predicts once on the evaluator, checks every output and alpha.</summary>
    private static void CheckForward(BinaryCase c, Precision p, ForwardAgreements a)
    {
        var rng = new Random(c.Seed);
        var b = new ModelBuilder("binary_forward", c.Input, (ulong)c.Seed) { DefaultPrecision = p };
        var y = c.Add(b, b.Input, Values(rng, c.Out * c.Taps, 1.25f), c.Bias ? Values(rng, c.Out, 2f) : null);
        var model = b.MseLoss("loss", y).Build(new SgdOptimizer(0.01f));
        var x = Values(rng, c.Input.Elements, 2f, nan: true);
        var run = new EvalRun(model);
        var actual = run.Predict(x);
        var alphas = run.Read("op_alpha");

        // The stored parameters (rounded to binary16 for the fp16 policies; the values given are exact there anyway).
        var w = model.Parameters.Single(q => q.Name == "op_weight").Initial.ToArray();
        var bias = c.Bias ? model.Parameters.Single(q => q.Name == "op_bias").Initial.ToArray() : null;
        var dots = c.Dots(Signs(x), Signs(w));
        int pixels = dots.Length / c.Out;
        Assert.Equal(dots.Length, actual.Length);
        string at = $"{c} {p.Name()}";
        for (int o = 0; o < c.Out; o++)
        {
            var taps = w.AsSpan(o * c.Taps, c.Taps);
            float alpha = Alpha(p, taps);
            double alpha64 = taps.ToArray().Sum(v => Math.Abs((double)v)) / c.Taps;
            a.Exact.Check(alphas[o], alpha, $"{at} alpha[{o}]");
            a.Alpha.Check(alphas[o], alpha64, $"{at} alpha[{o}]", 0, AlphaBound(p, c.Taps));
            double b0 = bias is null ? 0 : bias[o];
            for (int px = 0; px < pixels; px++)
            {
                int i = o * pixels + px;
                string where = $"{at} y[{i}] (dot {dots[i]})";
                a.Exact.Check(actual[i], FmaStore(p, alpha, dots[i], bias?[o]), where);
                double magnitude = Math.Abs(alpha * dots[i]) + Math.Abs(b0);
                a.Transform.Check(actual[i], alpha * dots[i] + b0, where, magnitude, TransformBound(p));
                a.Truth.Check(actual[i], alpha64 * dots[i] + b0, where, alpha64 * Math.Abs(dots[i]) + Math.Abs(b0), TruthBound(p, c.Taps));
                if (p == Precision.Fp32) a.Ulps.Add((float)dots[i], actual[i], alpha * dots[i] + b0);
            }
        }
    }

    private static readonly (int T, int L, int B, int R)[] Pads = [(0, 0, 0, 0), (1, 1, 1, 1), (2, 2, 2, 2), (1, 0, 2, 1), (0, 2, 1, 0)];

    /// <summary>
    /// In channels 1, 3, 31, 32, 33, 70 x kernels 1x1, 2x3, 3x3 x paddings 0, 1, 2, [1, 0, 2, 1], [0, 2, 1, 0] x zero and
    /// one padding (180 layers); out channels 1..9, strides 1 and 2 per axis, groups 2 (where they divide), bias or not and
    /// the input size (3..7 per axis) drawn per layer. Padding 2 with a 1x1 kernel gives windows entirely on the padding.
    /// </summary>
    private static List<BinaryCase> ConvMatrix()
    {
        var rng = new Random(3131);
        var cases = new List<BinaryCase>();
        foreach (int cin in new[] { 1, 3, 31, 32, 33, 70 })
            foreach (var k in new[] { (H: 1, W: 1), (H: 2, W: 3), (H: 3, W: 3) })
                foreach (var pad in Pads)
                    foreach (var padding in new[] { BinaryPadding.Zero, BinaryPadding.One })
                    {
                        bool grouped = cin % 2 == 0 && rng.Next(2) == 0;
                        int outC = grouped ? 2 * rng.Next(1, 5) : rng.Next(1, 10);
                        int h = rng.Next(3, 8), w = rng.Next(3, 8);
                        var window = new Window2d(h, w, k.H, k.W, rng.Next(1, 3), rng.Next(1, 3), pad.T, pad.L, pad.B, pad.R);
                        cases.Add(new BinaryCase(new Shape(cin, h, w), outC, grouped ? 2 : 1, window, padding, rng.Next(2) == 0, false, cases.Count + 1));
                    }
        return cases;
    }

    /// <summary>In features 1, 32, 33, 100 x out 1, 4, 9 x bias or not, and a [3, 4, 5] input (its 60 elements in CHW order).</summary>
    private static List<BinaryCase> LinearMatrix()
    {
        var cases = (from inF in new[] { 1, 32, 33, 100 }
                     from outF in new[] { 1, 4, 9 }
                     from bias in new[] { false, true }
                     select BinaryCase.Linear(new Shape(inF), outF, bias, 5000 + inF * 20 + outF * 2 + (bias ? 1 : 0))).ToList();
        cases.Add(BinaryCase.Linear(new Shape(3, 4, 5), 7, true, 5999));
        return cases;
    }

    public static TheoryData<Precision> Precisions => CnnGradientTests.Precisions;

    [Theory]
    [MemberData(nameof(Precisions))]
    public void Binary_conv2d_forward_is_exactly_the_float64_definition_rounded_as_documented(Precision p)
    {
        var cases = ConvMatrix();
        // The matrix covers what it says.
        Assert.Equal(180, cases.Count);
        Assert.Equal(Enumerable.Range(1, 9), cases.Select(c => c.Out).Distinct().Order());
        Assert.Contains(cases, c => c.Groups == 2 && c.In == 70);
        Assert.Contains(cases, c => c.Window.StrideH == 2 && c.Window.StrideW == 1);
        Assert.Contains(cases, c => c.Window.StrideH == 1 && c.Window.StrideW == 2);
        var a = new ForwardAgreements("binary_conv2d", p);
        foreach (var c in cases) CheckForward(c, p, a);
        a.Verify(output);
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void Binary_linear_forward_is_exactly_the_float64_definition_rounded_as_documented(Precision p)
    {
        var a = new ForwardAgreements("binary_linear", p);
        foreach (var c in LinearMatrix()) CheckForward(c, p, a);
        a.Verify(output);
    }

    /// <summary>
    /// binary16 holds every integer up to 2048: fp16 takes a layer of exactly 2048 taps per output (dot products 2048, 2046
    /// and -2048 forced, the fourth random) and computes it exactly; 2049 taps are refused, naming the node, for BinaryLinear and
    /// BinaryConv2d (per group: 512 channels, 3x3, 2 groups is 2304 taps; 4 groups is 1152 and builds). fp16-mixed and fp32
    /// take 2049 and 4100 taps, and fp16-mixed is still exact there (binary16 alpha times an integer below 2^13 fits binary32).
    /// </summary>
    [Fact]
    public void Fp16_is_exact_up_to_2048_taps_and_refuses_more()
    {
        // Output 0: every sign agrees with the input's (dot 2048); 1: one disagrees (2046); 2: all disagree (-2048); 3: random.
        var special = new ForwardAgreements("binary_linear 2048 taps", Precision.Fp16);
        var x = Values(new Random(2048), 2048, 2f);
        var sx = Signs(x);
        var rng = new Random(2049);
        var w = new float[4 * 2048];
        for (int i = 0; i < 2048; i++)
        {
            float magnitude = (float)(Half)(0.01 + rng.NextDouble());
            w[i] = (float)(sx[i] * magnitude);
            w[2048 + i] = (float)((i == 7 ? -sx[i] : sx[i]) * magnitude);
            w[2 * 2048 + i] = (float)(-sx[i] * magnitude);
            w[3 * 2048 + i] = (float)(Half)(2 * rng.NextDouble() - 1);
        }
        var b = new ModelBuilder("binary_fp16_limit", new Shape(2048)) { DefaultPrecision = Precision.Fp16 };
        var model = b.MseLoss("loss", b.BinaryLinear("op", b.Input, 4, bias: false, weight: w)).Build(new SgdOptimizer(0.01f));
        var run = new EvalRun(model);
        var y = run.Predict(x);
        var alphas = run.Read("op_alpha");
        var dots = BinaryCase.Linear(new Shape(2048), 4, false, 0).Dots(sx, Signs(w));
        Assert.Equal([2048.0, 2046.0, -2048.0], dots.Take(3));
        for (int o = 0; o < 4; o++)
        {
            float alpha = Alpha(Precision.Fp16, w.AsSpan(o * 2048, 2048));
            special.Exact.Check(alphas[o], alpha, $"alpha[{o}]");
            special.Exact.Check(y[o], FmaStore(Precision.Fp16, alpha, dots[o], null), $"y[{o}] (dot {dots[o]})");
            special.Alpha.Check(alphas[o], w.Skip(o * 2048).Take(2048).Sum(v => Math.Abs((double)v)) / 2048, $"alpha[{o}]", 0, AlphaBound(Precision.Fp16, 2048));
        }
        special.Exact.Verify(output);
        special.Alpha.Verify(null);
        output.WriteLine($"fp16, 2048 taps: alpha (a binary16 sum of 2048 terms) vs the float64 mean: max rel err {special.Alpha.MaxRelError:E3}");

        foreach (int taps in new[] { 2049, 4100 })
            foreach (var p in new[] { Precision.Fp16Mixed, Precision.Fp32 })
            {
                var a = new ForwardAgreements($"binary_linear {taps} taps", p);
                CheckForward(BinaryCase.Linear(new Shape(taps), 2, true, taps), p, a);
                a.Exact.Verify(output);
            }

        static ModelBuilder Builder(Shape input) => new("binary_fp16_refused", input) { DefaultPrecision = Precision.Fp16 };
        var linear = Assert.Throws<TinyOdlException>(() => { var mb = Builder(new Shape(2049)); mb.BinaryLinear("big_linear", mb.Input, 3); });
        Assert.Contains("node 'big_linear'", linear.Message);
        Assert.Contains("2049 taps", linear.Message);
        var conv = Assert.Throws<TinyOdlException>(() =>
        {
            var mb = Builder(new Shape(512, 4, 4));
            mb.BinaryConv2d("big_conv", mb.Input, 4, new Window2d(4, 4, 3, 3), groups: 2);
        });
        Assert.Contains("node 'big_conv'", conv.Message);
        Assert.Contains("2304 taps", conv.Message);
        var fine = Builder(new Shape(512, 4, 4));
        fine.BinaryConv2d("grouped", fine.Input, 4, new Window2d(4, 4, 3, 3), groups: 4);
        var limit = Builder(new Shape(2048));
        limit.BinaryLinear("limit", limit.Input, 1);
        output.WriteLine($"refused: {linear.Message} | {conv.Message}");
    }

    // ---- One training step.

    /// <summary>A binary layer "op" after the identity "pre" and before a real linear "fc" of Classes outputs and a loss.</summary>
    public sealed record StepCase(string Label, BinaryCase Op, int Classes, bool CrossEntropy, float LearningRate)
    {
        public override string ToString() => $"{Label}: {Op}, fc {Classes}, {(CrossEntropy ? "cross-entropy" : "MSE")}, lr {LearningRate}";
    }

    private static readonly StepCase[] StepCases =
    [
        new("33 channels, 3x3, zero padding", new BinaryCase(new Shape(33, 5, 4), 4, 1, new Window2d(5, 4, 3, 3, 1, 1, 1, 1, 1, 1), BinaryPadding.Zero, true, false, 71), 3, false, 0.5f),
        new("2x3, stride 2, uneven one padding", new BinaryCase(new Shape(3, 6, 5), 4, 1, new Window2d(6, 5, 2, 3, 2, 2, 1, 0, 2, 1), BinaryPadding.One, true, false, 72), 4, false, 0.5f),
        new("grouped, one padding, no bias", new BinaryCase(new Shape(4, 5, 5), 6, 2, new Window2d(5, 5, 3, 3, 1, 2, 0, 2, 1, 0), BinaryPadding.One, false, false, 73), 3, true, 0.25f),
        new("linear 33", BinaryCase.Linear(new Shape(33), 5, true, 74), 4, true, 0.25f),
    ];

    public static TheoryData<int, Precision> StepMatrix()
    {
        var data = new TheoryData<int, Precision>();
        for (int i = 0; i < StepCases.Length; i++)
            foreach (var p in new[] { Precision.Fp32, Precision.Fp16, Precision.Fp16Mixed }) data.Add(i, p);
        return data;
    }

    /// <summary>An identity matrix [n][n], as a Linear weight or a 1x1 convolution's [n][n][1][1].</summary>
    private static float[] Identity(int n)
    {
        var w = new float[n * n];
        for (int i = 0; i < n; i++) w[i * n + i] = 1f;
        return w;
    }

    /// <summary>The float64 straight-through step: gradients and updated parameters of the binary layer.</summary>
    private sealed record Float64Step(double[] Dy, double[] DW, double[]? DB, double[] DX, double[] W1, double[]? B1);

    private static Float64Step Reference(StepCase s, double[] x, double[] w, double[]? bias, double[] wfc, double[] bfc, double[] t)
    {
        var c = s.Op;
        int taps = c.Taps;
        var sx = Signs(x.Select(v => (float)v).ToArray());
        var sw = Signs(w.Select(v => (float)v).ToArray());
        var alpha = Enumerable.Range(0, c.Out).Select(o => w.Skip(o * taps).Take(taps).Sum(Math.Abs) / taps).ToArray();
        var dots = c.Dots(sx, sw);
        int pixels = dots.Length / c.Out;
        var y = dots.Select((d, i) => alpha[i / pixels] * d + (bias is null ? 0 : bias[i / pixels])).ToArray();
        var z = Float64Reference.Linear(wfc, bfc, y, s.Classes);
        var dz = s.CrossEntropy ? Float64Reference.SoftmaxCrossEntropyGradient(z, t) : Float64Reference.MseGradient(z, t);
        var dy = Float64Reference.LinearInputGradient(wfc, dz, y.Length);

        // Weight gradient: alpha[o] times the gradient with respect to the binarized weights (one padding included: the
        // dot is linear in sign(W)), kept where -1 <= W <= 1.
        var dwb = Adjoint(v => c.Dots(sx, v), w.Length, dy);
        var dw = dwb.Select((g, i) => InUnitInterval(w[i]) ? alpha[i / taps] * g : 0).ToArray();
        var db = bias is null ? null : Enumerable.Range(0, c.Out).Select(o => dy.Skip(o * pixels).Take(pixels).Sum()).ToArray();
        // Input gradient: the convolution with weights alpha * sign(W) (padded taps do not depend on x, whatever they
        // read), kept where -1 <= x <= 1.
        var wb = sw.Select((v, i) => alpha[i / taps] * v).ToArray();
        var dsx = Adjoint(v => Float64Cnn.Conv2d(v, c.In, c.Effective, wb, null, c.Out, c.Groups), x.Length, dy);
        var dx = dsx.Select((g, i) => InUnitInterval(x[i]) ? g : 0).ToArray();
        var w1 = w.Select((v, i) => Math.Clamp(v - s.LearningRate * dw[i], -1, 1)).ToArray();
        var b1 = bias?.Select((v, i) => v - s.LearningRate * db![i]).ToArray();
        return new Float64Step(dy, dw, db, dx, w1, b1);
    }

    /// <summary>
    /// The SGD kernel on one value: fma(-lr, g, w) in the accumulation type (lr a constant of that type: rounded to binary16
    /// under fp16), stored, then clipped to [-1, 1] for latent weights.
    /// </summary>
    private static float Sgd(Precision p, float lr, float w, float g, bool clip)
    {
        float u = FmaStore(p, p == Precision.Fp16 ? -(float)(Half)lr : -lr, g, w);
        return clip ? Math.Clamp(u, -1f, 1f) : u;
    }

    private static double GradientRTol(Precision p) => p == Precision.Fp32 ? 2e-5 : 2e-2;

    /// <summary>
    /// One SGD step of pre -&gt; op -&gt; fc -&gt; loss. Latent weights include +-1 exactly (the straight-through bound is
    /// inclusive: their gradient flows), +-1.5 (masked, then clipped to +-1), +-0 and values close to +-1 that the large
    /// learning rate pushes across (clipped); inputs include +-1 exactly, +-1.5 (masked) and +-0 (sign +1).
    /// </summary>
    [Theory]
    [MemberData(nameof(StepMatrix))]
    public void One_sgd_step_matches_the_float64_straight_through_reference(int index, Precision p)
    {
        var s = StepCases[index];
        var c = s.Op;
        var rng = new Random(c.Seed);
        var w0 = Values(rng, c.Out * c.Taps, 1.1f);
        Plant(rng, w0, 1f, -1f, 0f, -0f, 1.5f, -1.5f, (float)(Half)0.999, (float)(Half)(-0.999));
        var bias0 = c.Bias ? Values(rng, c.Out, 0.5f) : null;
        var x = Values(rng, c.Input.Elements, 2f);
        Plant(rng, x, 1f, -1f, 0f, -0f, 1.5f, -1.5f);
        int yElements = c.Out * (c.IsLinear ? 1 : c.Window.Pixels);
        // PyTorch's scale for the real layer, so that the loss is not saturated.
        float bound = 1f / MathF.Sqrt(yElements);
        var wfc = TestData.Uniform(rng, s.Classes * yElements, -bound, bound);
        var bfc = TestData.Uniform(rng, s.Classes, -bound, bound);
        var t = s.CrossEntropy ? new float[s.Classes] : TestData.Uniform(rng, s.Classes, -1f, 1f);
        if (s.CrossEntropy) t[rng.Next(s.Classes)] = 1f;

        var b = new ModelBuilder("binary_step", c.Input, (ulong)c.Seed) { DefaultPrecision = p };
        var pre = c.IsLinear
            ? b.Linear("pre", b.Input, c.In, bias: false, weight: Identity(c.In))
            : b.Conv2d("pre", b.Input, c.In, new Window2d(c.Input[1], c.Input[2], 1, 1), bias: false, weight: Identity(c.In));
        var y = c.Add(b, pre, w0, bias0);
        var model = (s.CrossEntropy ? b.SoftmaxCrossEntropy("loss", b.Linear("fc", b.Flatten("flat", y), s.Classes, weight: wfc, biasValues: bfc))
            : b.MseLoss("loss", b.Linear("fc", b.Flatten("flat", y), s.Classes, weight: wfc, biasValues: bfc))).Build(new SgdOptimizer(s.LearningRate));
        var run = new EvalRun(model);
        run.TrainStep(x, t);

        // The reference starts from the stored parameters (fc's rounded to binary16 under the fp16 policies).
        double[] Stored(string name) => TestData.ToDouble(model.Parameters.Single(q => q.Name == name).Initial);
        var xd = TestData.ToDouble(x);
        var w = Stored("op_weight");
        Assert.Equal(w, TestData.ToDouble(w0));
        var r = Reference(s, xd, w, c.Bias ? Stored("op_bias") : null, Stored("fc_weight"), Stored("fc_bias"), TestData.ToDouble(t));
        string at = $"{s.Label} {p.Name()}";

        // The identity layer hands the input through unchanged (+-0 both give sign +1).
        var preOut = run.Read("pre");
        for (int i = 0; i < x.Length; i++) Assert.True(preOut[i] == x[i], $"{at}: pre[{i}] {preOut[i]} != x {x[i]}");

        var normwise = new Agreement($"{at}: gradients and updated parameters vs float64 straight-through (normwise)", GradientRTol(p), 0);
        var dy = run.Read(run.Has("d_op") ? "d_op" : "d_flat");
        normwise.CheckTensor(dy, r.Dy, $"{at} dL/dy");
        var dw = run.Read("d_op_weight");
        normwise.CheckTensor(dw, r.DW, $"{at} d_op_weight");
        var dx = run.Read("d_pre");
        normwise.CheckTensor(dx, r.DX, $"{at} dL/dx (d_pre)");
        var w1 = run.Read("op_weight");
        double stepScale = s.LearningRate * r.DW.Max(Math.Abs);
        normwise.CheckAll(w1, r.W1, $"{at} op_weight after the step", stepScale);
        float[]? db = null;
        if (c.Bias)
        {
            db = run.Read("d_op_bias");
            normwise.CheckTensor(db, r.DB!, $"{at} d_op_bias");
            normwise.CheckAll(run.Read("op_bias"), r.B1!, $"{at} op_bias after the step", s.LearningRate * r.DB!.Max(Math.Abs));
        }

        // Exactly: the masks (+0 outside [-1, 1]), the update kernel with its clipping, from the evaluator's own gradients.
        var exact = new Agreement($"{at}: masks, SGD and clipping vs the emulated kernels (bit-exact)", 0, 0);
        for (int i = 0; i < w.Length; i++)
        {
            if (!InUnitInterval(w[i])) exact.Check(BitConverter.SingleToInt32Bits(dw[i]), 0, $"{at} d_op_weight[{i}] (W {w[i]}) is +0");
            exact.Check(w1[i], Sgd(p, s.LearningRate, w0[i], dw[i], clip: true), $"{at} op_weight[{i}] after the step");
        }
        for (int i = 0; i < x.Length; i++)
            if (!InUnitInterval(x[i])) exact.Check(BitConverter.SingleToInt32Bits(dx[i]), 0, $"{at} d_pre[{i}] (x {x[i]}) is +0");
        if (db is not null)
        {
            var b1 = run.Read("op_bias");
            for (int o = 0; o < c.Out; o++) exact.Check(b1[o], Sgd(p, s.LearningRate, bias0![o], db[o], clip: false), $"{at} op_bias[{o}] after the step");
        }

        // The step exercised every edge: gradients flowing at W = +-1 and x = +-1 exactly, masked values, and weights
        // clipped both because they started beyond +-1 and because the update pushed them across.
        double margin = 2 * GradientRTol(p) * stepScale;
        int flowingAtOne = Enumerable.Range(0, w.Length).Count(i => Math.Abs(w[i]) == 1 && Math.Abs(r.DW[i]) > margin && dw[i] != 0);
        int inputsAtOne = Enumerable.Range(0, x.Length).Count(i => Math.Abs(x[i]) == 1 && Math.Abs(r.DX[i]) > 1e-2 * r.DX.Max(Math.Abs) && dx[i] != 0);
        int clippedBeyond = Enumerable.Range(0, w.Length).Count(i => Math.Abs(w[i]) > 1 && Math.Abs(w1[i]) == 1);
        int clippedAcross = Enumerable.Range(0, w.Length).Count(i =>
            InUnitInterval(w[i]) && Math.Abs(w[i] - s.LearningRate * r.DW[i]) > 1 + margin && Math.Abs(w1[i]) == 1);
        int pushedAcross = Enumerable.Range(0, w.Length).Count(i => InUnitInterval(w[i]) && Math.Abs(w[i] - s.LearningRate * r.DW[i]) > 1 + margin);
        Assert.Equal(pushedAcross, clippedAcross);
        Assert.True(flowingAtOne > 0 && inputsAtOne > 0 && clippedBeyond > 0 && clippedAcross > 0,
            $"{at}: the step must exercise every edge: gradients at W = +-1 {flowingAtOne}, at x = +-1 {inputsAtOne}, clipped from beyond {clippedBeyond}, clipped across {clippedAcross}");
        Assert.Equal(w.Count(v => !InUnitInterval(v)), clippedBeyond);

        normwise.Verify(output);
        exact.Verify(output);
        output.WriteLine($"{at}: gradient flowing at W = +-1: {flowingAtOne}, at x = +-1: {inputsAtOne}; clipped from beyond: {clippedBeyond}, pushed across and clipped: {clippedAcross}");
    }

    // ---- Random geometries.

    private static readonly Gen<BinaryCase> RandomCases =
        from groups in Gen.Int[1, 3]
        from inPer in Gen.OneOf(Gen.Int[1, 4], Gen.Int[29, 35], Gen.Int[62, 66])
        from outPer in Gen.Int[1, 4]
        from k in Gen.Int[1, 3].Array[4] // kernel height, width; stride height, width
        from pads in Gen.Int[0, 2].Array[4]
        from size in Gen.Int[1, 6].Array[2]
        from flags in Gen.Bool.Array[2] // bias; one padding
        from seed in Gen.Int[0, 1_000_000]
        where k[0] <= size[0] + pads[0] + pads[2] && k[1] <= size[1] + pads[1] + pads[3]
        select new BinaryCase(new Shape(groups * inPer, size[0], size[1]), groups * outPer, groups,
            new Window2d(size[0], size[1], k[0], k[1], k[2], k[3], pads[0], pads[1], pads[2], pads[3]),
            flags[1] ? BinaryPadding.One : BinaryPadding.Zero, flags[0], false, seed);

    /// <summary>Random channels (around the 32-bit word boundaries), groups 1-3, kernels, strides, per-side paddings, both padding values: fp32 is exact.</summary>
    [Fact]
    public void Random_binary_conv2d_geometries_are_exact_in_fp32()
    {
        var gate = new object();
        int count = 0;
        (double Error, string At) truth = (0, "-"), alpha = (0, "-");
        RandomCases.Sample(c =>
        {
            var a = new ForwardAgreements(c.ToString(), Precision.Fp32);
            CheckForward(c, Precision.Fp32, a);
            a.Exact.Verify(null);
            a.Truth.Verify(null);
            lock (gate)
            {
                count++;
                if (a.Truth.MaxRelError > truth.Error) truth = (a.Truth.MaxRelError, a.Truth.WorstAt);
                if (a.Alpha.MaxRelError > alpha.Error) alpha = (a.Alpha.MaxRelError, a.Alpha.WorstAt);
            }
        }, iter: 300);
        output.WriteLine($"random binary_conv2d fp32: {count} geometries bit-exact; max rel err vs the float64 truth {truth.Error:E3} at {truth.At}; " +
            $"alpha vs the float64 mean {alpha.Error:E3} at {alpha.At}");
    }
}

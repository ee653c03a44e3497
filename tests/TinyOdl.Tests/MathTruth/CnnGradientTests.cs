using CsCheck;
using TinyOdl.Graph;
using TinyOdl.Passes;
using Xunit.Abstractions;
using static TinyOdl.Tests.MathTruth.RoundingBounds;
using Params = System.Collections.Generic.IReadOnlyDictionary<string, double[]>;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// Conv2d, max and average pooling, global average pooling and batch norm against calculus, in fp32, fp16 and
/// fp16-mixed. Each network is written a second time in float64 (<see cref="Float64Cnn"/>), from the same initial
/// parameters (read back from the model, so binary16 layers start from the rounded values) and an input exactly
/// representable in binary16. After one training step on the evaluator (unshared arena, so every tensor stays readable):
/// <list type="bullet">
/// <item>Forward: every layer's output against the float64 layer applied to the evaluator's own input of that layer,
/// within a rigorous bound: gamma_n(u) times the magnitude (sum of |terms|) for n roundings in the accumulation type
/// (u = 2^-24, or 2^-11 for fp16), plus one binary16 rounding of the result for fp16-mixed; max pooling exactly.</item>
/// <item>Gradients: every trainable parameter's gradient and every activation gradient the program holds (d_pre is
/// the input gradient of the layer under test) against central finite differences of the float64 loss, normwise per
/// tensor with the size of its terms as a floor: |g_i - fd_i| &lt;= rtol * max(max_j |fd_j|, T_i) + atol, where T is
/// backpropagation in absolute values (T_y = 2 (|y| + |t|) / n at an MSE prediction, T_a = sum_j T_y_j |dy_j/da_i| through
/// each layer), so a gradient that cancels to near 0 is measured against the terms it was summed from; rtol 2e-5 for
/// fp32 and 2e-2 for the binary16 policies.</item>
/// </list>
/// Single layers follow a trainable batch norm <c>pre</c> (so their input has a gradient) and feed an MSE loss directly:
/// a geometry matrix (kernels 1x1, 3x3, 2x3; strides 1, 2 on inputs they do not divide; paddings 0, 1 and asymmetric;
/// groups 1, 2, depthwise; every pooling kind) and CsCheck properties over random geometries (convolutions through
/// both algorithms). A small CNN (conv, batch norm, ReLU, max pool, grouped, depthwise and pointwise convs, average
/// pools, linear, cross-entropy) checks them chained. Inputs are distinct per channel by construction, and samples are
/// redrawn while a max-pool window holds a near-tie or a ReLU input is near 0 (no kinks within reach of rounding or of
/// the finite-difference step). Finally, im2col and the direct loop nest must train the small CNN to identical bits.
/// </summary>
public sealed class CnnGradientTests(ITestOutputHelper output)
{
    private const float Epsilon = 1e-5f;

    private static double GradientRTol(Precision p) => p == Precision.Fp32 ? 2e-5 : 2e-2;
    private static double GradientATol(Precision p) => p == Precision.Fp32 ? 1e-7 : 1e-5;
    /// <summary>The smallest subnormal of the storage type: what a rounding into the subnormals may add.</summary>
    private static double ForwardATol(Precision p) => p == Precision.Fp32 ? float.Epsilon : Math.ScaleB(1.0, -24);
    /// <summary>How far from a ReLU or max-pool kink a sample must be (binary16 layers here err by up to ~3e-3).</summary>
    private static double KinkMargin(Precision p) => p == Precision.Fp32 ? 1e-3 : 1e-2;

    // ---- Networks as stages: each layer once for the builder and once in float64.

    /// <summary>
    /// A layer: <see cref="Add"/> puts it into the model (its output value is named <see cref="Name"/>), <see cref="Apply"/>
    /// is its float64 forward pass from the parameter values, <see cref="Bound"/> its forward error bound (magnitude per
    /// output and relative bound; null when it computes nothing, like Flatten), <see cref="Margin"/> the distance of its
    /// input from a kink. <see cref="TiedInput"/>: its input holds exact ties (a max pool after a ReLU: clamped zeros), so
    /// the loss is not differentiable in that input and its gradient (a convention: the first tap wins) is not compared;
    /// the gradients upstream of the ReLU are well defined and are.
    /// </summary>
    private sealed record Layer(string Name, Func<ModelBuilder, Value, Value> Add, Func<Params, double[], double[]> Apply,
        Func<Params, double[], Precision, (double[] Magnitude, double RelTol)>? Bound, Func<double[], double>? Margin = null, bool TiedInput = false);

    private sealed record Net(string Label, Shape Input, Layer[] Layers, bool CrossEntropy = false)
    {
        public override string ToString() => Label;

        /// <summary>Outputs of layers from..end, starting from <paramref name="h"/> (the input of layer <paramref name="from"/>).</summary>
        public double[][] Forward(Params v, double[] h, int from = 0)
        {
            var outs = new double[Layers.Length][];
            for (int k = from; k < Layers.Length; k++) h = outs[k] = Layers[k].Apply(v, h);
            return outs;
        }

        public double Loss(double[] y, double[] t) =>
            CrossEntropy ? Float64Reference.SoftmaxCrossEntropy(y, t) : Float64Reference.Mse(y, t);

        /// <summary>The sizes of the terms of dL/dy: 2 (|y| + |t|) / n for MSE, softmax(y) |sum t| + |t| for cross-entropy.</summary>
        public double[] LossTerms(double[] y, double[] t)
        {
            if (!CrossEntropy) return y.Select((v, i) => 2 * (Math.Abs(v) + Math.Abs(t[i])) / y.Length).ToArray();
            var s = Float64Reference.Softmax(y);
            double sum = Math.Abs(t.Sum());
            return s.Select((v, i) => v * sum + Math.Abs(t[i])).ToArray();
        }

        /// <summary>The loss as a function of the input of layer <paramref name="from"/>.</summary>
        public double LossFrom(Params v, int from, double[] h, double[] t) =>
            Loss(from == Layers.Length ? h : Forward(v, h, from)[^1], t);
    }

    private static Layer Conv(string name, int cin, int cout, Window2d w, int groups = 1, bool bias = true) =>
        new(name, (b, x) => b.Conv2d(name, x, cout, w, groups, bias),
            (v, x) => Float64Cnn.Conv2d(x, cin, w, v[name + "_weight"], bias ? v[name + "_bias"] : null, cout, groups),
            (v, x, p) => (Float64Cnn.Conv2d(x, cin, w, v[name + "_weight"], bias ? v[name + "_bias"] : null, cout, groups, magnitude: true),
                Accumulation(p, cin / groups * w.KernelH * w.KernelW)));

    /// <summary>Batch norm with random statistics, scale (either sign) and shift.</summary>
    private static Layer BatchNorm(string name, int channels, Random rng)
    {
        var scale = TestData.AwayFromZero(rng, channels, 0.5f, 1.5f);
        var shift = TestData.Uniform(rng, channels, -0.5f, 0.5f);
        var mean = TestData.Uniform(rng, channels, -0.25f, 0.25f);
        var variance = TestData.Uniform(rng, channels, 0.5f, 2f);
        var vd = TestData.ToDouble(variance);
        double[] Apply(Params v, double[] x, bool magnitude) =>
            Float64Cnn.BatchNorm(x, channels, v[name + "_weight"], v[name + "_bias"], v[name + "_mean"], vd, Epsilon, magnitude);
        // x - mean, * inv_std, one fused multiply-add: 3 roundings; inv_std itself is stored rounded (to binary32, then
        // binary16 for the fp16 policies).
        return new(name, (b, x) => b.BatchNorm(name, x, Epsilon, scale, shift, mean, variance),
            (v, x) => Apply(v, x, false),
            (v, x, p) => (Apply(v, x, true), Accumulation(p, 3) + (p == Precision.Fp32 ? U32 : U32 + U16) * 1.001));
    }

    private static Layer MaxPool(string name, int channels, Window2d w, bool afterRelu = false) =>
        new(name, (b, x) => b.Pool(name, x, PoolKind.Max, w),
            (_, x) => Float64Cnn.MaxPool(x, channels, w),
            (_, x, _) => (new double[channels * Float64Cnn.OutHeight(w) * Float64Cnn.OutWidth(w)], 0.0),
            x => Float64Cnn.MaxPoolMargin(x, channels, w, zeroTiesAreFlat: afterRelu), TiedInput: afterRelu);

    /// <summary>Up to kh*kw - 1 rounded adds, one division.</summary>
    private static Layer AveragePool(string name, int channels, Window2d w, bool countIncludePad) =>
        new(name, (b, x) => b.Pool(name, x, PoolKind.Average, w, countIncludePad),
            (_, x) => Float64Cnn.AveragePool(x, channels, w, countIncludePad),
            (_, x, p) => (Float64Cnn.AveragePool(x, channels, w, countIncludePad, magnitude: true), Accumulation(p, w.KernelH * w.KernelW)));

    private static Layer GlobalAveragePool(string name, int channels) =>
        new(name, (b, x) => b.GlobalAveragePool(name, x),
            (_, x) => Float64Cnn.GlobalAveragePool(x, channels),
            (_, x, p) => (Float64Cnn.GlobalAveragePool(x, channels, magnitude: true), Accumulation(p, x.Length / channels)));

    private static Layer Relu(string name) =>
        new(name, (b, x) => b.Relu(name, x), (_, x) => Float64Reference.Relu(x), (_, x, _) => (new double[x.Length], 0.0),
            x => x.Min(Math.Abs));

    private static Layer Flatten(string name) => new(name, (b, x) => b.Flatten(name, x), (_, x) => x, null);

    private static Layer Linear(string name, int inF, int outF) =>
        new(name, (b, x) => b.Linear(name, x, outF),
            (v, x) => Float64Reference.Linear(v[name + "_weight"], v[name + "_bias"], x, outF),
            (v, x, p) => (Float64Reference.LinearMagnitude(v[name + "_weight"], v[name + "_bias"], x, outF), Accumulation(p, inF)));

    /// <summary>A trainable batch norm "pre" on the input, then the layer under test (named "op"), then MSE.</summary>
    private static Net Single(string label, Shape input, Layer op, Random rng) =>
        new(label, input, [BatchNorm("pre", input[0], rng), op]);

    // ---- The harness.

    /// <summary>
    /// Per channel, a random permutation of evenly spaced values in [-2, 2] with jitter (so every two pixels of a plane
    /// differ by at least 40 % of the spacing), rounded to binary16 (exact in every policy).
    /// </summary>
    private static float[] DistinctInput(Random rng, Shape shape)
    {
        int channels = shape[0], plane = shape.Elements / channels;
        double spacing = 4.0 / plane;
        var x = new float[shape.Elements];
        for (int ch = 0; ch < channels; ch++)
        {
            var order = Enumerable.Range(0, plane).OrderBy(_ => rng.Next()).ToArray();
            for (int i = 0; i < plane; i++)
                x[ch * plane + i] = (float)(Half)(-2.0 + (order[i] + 0.2 + 0.6 * rng.NextDouble()) * spacing);
        }
        return x;
    }

    private static Model BuildModel(Net net, Precision p, int seed, SgdOptimizer? optimizer = null)
    {
        var b = new ModelBuilder("cnn_truth", net.Input, (ulong)seed) { DefaultPrecision = p };
        var y = net.Layers.Aggregate(b.Input, (x, l) => l.Add(b, x));
        return (net.CrossEntropy ? b.SoftmaxCrossEntropy("loss", y) : b.MseLoss("loss", y)).Build(optimizer ?? new SgdOptimizer(0.01f));
    }

    /// <summary>Draws inputs until every layer's input is at least the kink margin away from a kink.</summary>
    private static float[] DrawAwayFromKinks(Net net, Params values, Precision p, Random rng)
    {
        for (int attempt = 0; attempt < 5000; attempt++)
        {
            var x = DistinctInput(rng, net.Input);
            var outs = net.Forward(values, TestData.ToDouble(x));
            bool ok = true;
            for (int k = 0; k < net.Layers.Length && ok; k++)
                if (net.Layers[k].Margin is { } margin && margin(k == 0 ? TestData.ToDouble(x) : outs[k - 1]) < KinkMargin(p)) ok = false;
            if (ok) return x;
        }
        throw new InvalidOperationException($"{net.Label}: no sample away from the kinks");
    }

    /// <summary>The gradient buffer of a parameter: d_NAME, or for a Linear bias the layer's output gradient (batch 1).</summary>
    private static float[] ParameterGradient(EvalRun run, string name) =>
        run.Read(run.Has("d_" + name) || !name.EndsWith("_bias", StringComparison.Ordinal) ? "d_" + name : "d_" + name[..^"_bias".Length]);

    /// <summary>
    /// One training step of <paramref name="net"/> on the evaluator, checked layer by layer and gradient by gradient.
    /// Returns the names of the gradient buffers it checked.
    /// </summary>
    private static List<string> Check(Net net, Precision p, int seed, Agreement forward, Agreement gradients,
        int im2colBudgetBytes = Autodiff.DefaultIm2colBudgetBytes)
    {
        var rng = new Random(seed);
        var model = BuildModel(net, p, seed);
        Params values = model.Parameters.ToDictionary(q => q.Name, q => TestData.ToDouble(q.Initial));
        var x = DrawAwayFromKinks(net, values, p, rng);
        var xd = TestData.ToDouble(x);
        var outs = net.Forward(values, xd);
        int n = outs[^1].Length;
        var t = net.CrossEntropy ? new float[n] : TestData.Uniform(rng, n, -1f, 1f);
        if (net.CrossEntropy) t[rng.Next(n)] = 1f;
        var td = TestData.ToDouble(t);

        var run = new EvalRun(model, im2colBudgetBytes);
        run.TrainStep(x, t);
        string at = $"{net.Label} {p.Name()}";

        // Each layer on the evaluator's own input (the output of the last layer that has a buffer; a view has none).
        var input = xd;
        foreach (var layer in net.Layers)
        {
            if (layer.Bound is { } bound)
            {
                var actual = run.Read(layer.Name);
                var expected = layer.Apply(values, input);
                var (magnitude, relTol) = bound(values, input, p);
                for (int i = 0; i < actual.Length; i++)
                    forward.Check(actual[i], expected[i], $"{at} {layer.Name}[{i}]", magnitude[i], relTol);
            }
            if (run.Has(layer.Name)) input = TestData.ToDouble(run.Read(layer.Name));
        }

        // The size of the terms that make up dL/d(output of layer k): absolute values propagated back from the loss's
        // terms through |d output / d input| of each layer (the scale the rounding errors of the backward pass grow with).
        var terms = new double[net.Layers.Length][];
        terms[^1] = net.LossTerms(outs[^1], td);
        for (int k = net.Layers.Length - 2; k >= 0; k--)
        {
            var h = (double[])outs[k].Clone();
            int next = k + 1;
            terms[k] = TermMagnitudes(() => net.Layers[next].Apply(values, h), h, terms[next]);
        }
        var checkedNames = new List<string>();
        foreach (var q in model.Parameters.Where(q => q.Trainable))
        {
            int k = Array.FindIndex(net.Layers, l => l.Name == q.Name[..q.Name.LastIndexOf('_')]);
            var layerInput = k == 0 ? xd : outs[k - 1];
            var theta = values[q.Name];
            var fd = FiniteDifferenceTests.Gradient(() => net.LossFrom(values, 0, xd, td), theta);
            CheckGradient(gradients, ParameterGradient(run, q.Name), fd,
                TermMagnitudes(() => net.Layers[k].Apply(values, layerInput), theta, terms[k]), $"{at} d_{q.Name}");
            checkedNames.Add("d_" + q.Name);
        }
        // dL/d(output of layer k) = the gradient of the loss of layers k+1.. as a function of their input.
        for (int k = 0; k < net.Layers.Length; k++)
        {
            string name = "d_" + net.Layers[k].Name;
            if (!run.Has(name) || (k + 1 < net.Layers.Length && net.Layers[k + 1].TiedInput)) continue;
            var h = (double[])outs[k].Clone();
            int from = k + 1;
            CheckGradient(gradients, run.Read(name), FiniteDifferenceTests.Gradient(() => net.LossFrom(values, from, h, td), h), terms[k], $"{at} {name}");
            checkedNames.Add(name);
        }
        return checkedNames;
    }

    /// <summary>
    /// For each a[i], sum_j g_j |d f_j / d a_i| (central differences): the size of the terms that backpropagation through
    /// f adds up into dL/da_i, given the sizes g of the terms of the gradient with respect to f's output.
    /// </summary>
    private static double[] TermMagnitudes(Func<double[]> f, double[] a, double[] g)
    {
        var m = new double[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            var d = FiniteDifferenceTests.CentralDifference(f, a, i);
            for (int j = 0; j < g.Length; j++) m[i] += g[j] * Math.Abs(d[j]);
        }
        return m;
    }

    /// <summary>|g_i - fd_i| &lt;= rtol * max(max_j |fd_j|, terms_i) + atol: normwise, and never tighter than the terms summed into g_i.</summary>
    private static void CheckGradient(Agreement agreement, float[] actual, double[] fd, double[] terms, string where)
    {
        Assert.Equal(fd.Length, actual.Length);
        double norm = fd.Length == 0 ? 0 : fd.Max(Math.Abs);
        for (int i = 0; i < actual.Length; i++) agreement.Check(actual[i], fd[i], $"{where}[{i}]", Math.Max(norm, terms[i]));
    }

    /// <summary>The gradients a single-layer net holds: pre's parameters, the layer's (given by suffix), pre's output (the layer's input), the layer's output.</summary>
    private static string[] SingleGradients(params string[] opParameters) =>
        ["d_pre_weight", "d_pre_bias", .. opParameters.Select(q => "d_op_" + q), "d_pre", "d_op"];

    /// <summary>Checks the layer made by <paramref name="op"/> after "pre" and that exactly the expected gradients were compared.</summary>
    private static void CheckSingle(string label, Shape shape, Func<Random, Layer> op, Precision p, int seed,
        (Agreement Forward, Agreement Gradients) a, params string[] opParameters)
    {
        var rng = new Random(seed);
        Assert.Equal(SingleGradients(opParameters), Check(Single(label, shape, op(rng), rng), p, seed, a.Forward, a.Gradients));
    }

    private (Agreement Forward, Agreement Gradients) Agreements(string what, Precision p) =>
        (new Agreement($"{what} forward vs float64, {p.Name()} (per-value rigorous bound)", 0, ForwardATol(p)),
         new Agreement($"{what} gradients vs finite differences, {p.Name()}", GradientRTol(p), GradientATol(p)));

    private void Verify((Agreement Forward, Agreement Gradients) a)
    {
        a.Forward.Verify(output);
        a.Gradients.Verify(output);
    }

    public static TheoryData<Precision> Precisions => new(Precision.Fp32, Precision.Fp16, Precision.Fp16Mixed);

    // ---- The geometry matrix.

    /// <summary>Top, left, bottom, right.</summary>
    private static readonly (int T, int L, int B, int R)[] ConvPads = [(0, 0, 0, 0), (1, 1, 1, 1), (1, 0, 2, 1)];
    private static readonly (int T, int L, int B, int R)[] PoolPads = [(0, 0, 0, 0), (1, 1, 1, 1), (1, 0, 0, 1)];
    private static readonly (int H, int W)[] Kernels = [(1, 1), (3, 3), (2, 3)];
    private static readonly (int H, int W)[] PoolKernels = [(2, 2), (3, 3), (2, 3)];

    /// <summary>A window over an input of 6 or 7 rows and 5 or 6 columns, chosen so that stride 2 does not divide the padded extent minus the kernel.</summary>
    private static Window2d Window((int H, int W) k, int stride, (int T, int L, int B, int R) pad)
    {
        int h = (6 + pad.T + pad.B - k.H) % 2 == 1 ? 6 : 7, w = (5 + pad.L + pad.R - k.W) % 2 == 1 ? 5 : 6;
        return new Window2d(h, w, k.H, k.W, stride, stride, pad.T, pad.L, pad.B, pad.R);
    }

    private static string Describe(Window2d w) =>
        $"{w.Height}x{w.Width} k{w.KernelH}x{w.KernelW} s{w.StrideH}x{w.StrideW} pads[{w.PadTop},{w.PadLeft},{w.PadBottom},{w.PadRight}]";

    /// <summary>A layer under test (named "op", after "pre"): label, input shape, the layer, and its parameters' suffixes.</summary>
    private sealed record OpCase(string Label, Shape Shape, Func<Random, Layer> Op, string[] Parameters);

    /// <summary>Checks every case in precision <paramref name="p"/>, then verifies; returns how many cases ran.</summary>
    private int CheckCases(string what, Precision p, int firstSeed, IEnumerable<OpCase> cases)
    {
        var a = Agreements(what, p);
        int seed = firstSeed;
        foreach (var c in cases) CheckSingle(c.Label, c.Shape, c.Op, p, ++seed, a, c.Parameters);
        Verify(a);
        return seed - firstSeed;
    }

    /// <summary>Kernels 1x1, 3x3, 2x3; strides 1, 2; paddings 0, 1, [1, 0, 2, 1]; groups 1, 2 and depthwise.</summary>
    private static IEnumerable<OpCase> ConvMatrix() =>
        from k in Kernels
        from stride in new[] { 1, 2 }
        from pad in ConvPads
        from ch in new[] { (In: 3, Out: 2, Groups: 1), (In: 4, Out: 6, Groups: 2), (In: 3, Out: 3, Groups: 3) }
        let w = Window(k, stride, pad)
        select new OpCase($"conv {ch.In}->{ch.Out} g{ch.Groups} {Describe(w)}", new Shape(ch.In, w.Height, w.Width),
            _ => Conv("op", ch.In, ch.Out, w, ch.Groups), ["weight", "bias"]);

    /// <summary>Max, average and average with count_include_pad over kernels 2x2, 3x3, 2x3; strides 1, 2; paddings 0, 1, [1, 0, 0, 1]; then global average pooling.</summary>
    private static IEnumerable<OpCase> PoolMatrix()
    {
        const int channels = 2;
        var windows = from k in PoolKernels from stride in new[] { 1, 2 } from pad in PoolPads select Window(k, stride, pad);
        foreach (var w in windows)
        {
            var shape = new Shape(channels, w.Height, w.Width);
            yield return new($"max pool {Describe(w)}", shape, _ => MaxPool("op", channels, w), []);
            yield return new($"average pool {Describe(w)}", shape, _ => AveragePool("op", channels, w, countIncludePad: false), []);
            yield return new($"average pool count_include_pad {Describe(w)}", shape, _ => AveragePool("op", channels, w, countIncludePad: true), []);
        }
        foreach (var shape in new[] { new Shape(3, 7, 5), new Shape(2, 1, 1), new Shape(4, 2, 9) })
            yield return new($"global average pool {shape}", shape, _ => GlobalAveragePool("op", shape[0]), []);
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void Conv2d_matches_float64_and_finite_differences(Precision p) =>
        Assert.Equal(54, CheckCases("conv2d", p, 1000, ConvMatrix()));

    [Theory]
    [MemberData(nameof(Precisions))]
    public void Pooling_matches_float64_and_finite_differences(Precision p) =>
        Assert.Equal(57, CheckCases("pooling", p, 2000, PoolMatrix()));

    [Theory]
    [MemberData(nameof(Precisions))]
    public void BatchNorm_matches_float64_and_finite_differences(Precision p) =>
        CheckCases("batch_norm", p, 3000,
            from shape in new[] { new Shape(3, 5, 4), new Shape(1, 6, 6), new Shape(4, 1, 3), new Shape(2, 1, 1), new Shape(3, 5) }
            select new OpCase($"batch_norm {shape}", shape, rng => BatchNorm("op", shape[0], rng), ["weight", "bias"]));

    /// <summary>
    /// conv -> batch norm -> ReLU -> max pool (padded; ties at exactly 0 after the ReLU are harmless, the loss is flat there)
    /// -> grouped non-square strided conv with asymmetric padding -> depthwise conv -> pointwise conv -> padded average pool
    /// -> global average pool -> flatten -> linear -> softmax cross-entropy.
    /// </summary>
    private static Net SmallCnn(Random rng) => new("small cnn", new Shape(2, 9, 8),
    [
        Conv("conv1", 2, 4, new Window2d(9, 8, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1)),
        BatchNorm("bn1", 4, rng),
        Relu("relu1"),
        MaxPool("pool1", 4, new Window2d(9, 8, 3, 3, 2, 2, 1, 1, 1, 1), afterRelu: true),
        Conv("conv2", 4, 4, new Window2d(5, 4, 2, 3, 2, 2, 1, 0, 2, 1), groups: 2),
        Conv("conv3", 4, 4, new Window2d(4, 2, 3, 3, 1, 1, 1, 1, 1, 1), groups: 4),
        Conv("conv4", 4, 3, new Window2d(4, 2, 1, 1)),
        AveragePool("pool2", 3, new Window2d(4, 2, 2, 2, 1, 1, 0, 0, 1, 1), countIncludePad: false),
        GlobalAveragePool("gap", 3),
        Flatten("flat"),
        Linear("fc", 3, 3),
    ], CrossEntropy: true);

    [Theory]
    [MemberData(nameof(Precisions))]
    public void Small_cnn_matches_float64_and_finite_differences(Precision p)
    {
        var a = Agreements("small cnn", p);
        for (int seed = 4001; seed <= 4002; seed++)
        {
            var names = Check(SmallCnn(new Random(seed)), p, seed, a.Forward, a.Gradients);
            // Every activation gradient but relu1's (tied zeros into the max pool) and gap's (a view of d_flat); fc's bias
            // gradient is d_fc (batch 1).
            Assert.Equal(["d_conv1_weight", "d_conv1_bias", "d_bn1_weight", "d_bn1_bias", "d_conv2_weight", "d_conv2_bias", "d_conv3_weight", "d_conv3_bias",
                "d_conv4_weight", "d_conv4_bias", "d_fc_weight", "d_fc_bias",
                "d_conv1", "d_bn1", "d_pool1", "d_conv2", "d_conv3", "d_conv4", "d_pool2", "d_flat", "d_fc"], names);
        }
        Verify(a);
    }

    // ---- im2col and the direct loop nest.

    /// <summary>
    /// The small CNN compiled with an im2col budget of 0 (every convolution direct) and of int.MaxValue (every one im2col;
    /// the pointwise one multiplies its input in both) trains to the same bits: losses and every parameter after 3 steps of
    /// SGD with momentum and weight decay.
    /// </summary>
    [Theory]
    [MemberData(nameof(Precisions))]
    public void Im2col_and_direct_convolutions_train_to_identical_bits(Precision p)
    {
        var net = SmallCnn(new Random(5000));
        var model = BuildModel(net, p, 5000, new SgdOptimizer(0.05f, Momentum: 0.9f, WeightDecay: 1e-3f));
        var results = new Dictionary<int, (uint[] Losses, Dictionary<string, uint[]> Parameters)>();
        foreach (int budget in new[] { 0, int.MaxValue })
        {
            var compiled = Pipeline.Compile(model, im2colBudgetBytes: budget);
            var expected = budget == 0 ? ConvAlgorithm.Direct : ConvAlgorithm.Im2col;
            var forward = compiled.Graph.Ops.OfType<ConvForward>().ToDictionary(o => o.Name, o => o.Algorithm);
            var weightGradient = compiled.Graph.Ops.OfType<ConvWeightGradient>().ToDictionary(o => o.Name, o => o.Algorithm);
            Assert.Equal(new Dictionary<string, ConvAlgorithm> { ["conv1"] = expected, ["conv2"] = expected, ["conv3"] = expected, ["conv4"] = ConvAlgorithm.Pointwise }, forward);
            Assert.Equal(new Dictionary<string, ConvAlgorithm>
            {
                ["conv1_weight_gradient"] = expected, ["conv2_weight_gradient"] = expected,
                ["conv3_weight_gradient"] = expected, ["conv4_weight_gradient"] = ConvAlgorithm.Pointwise,
            }, weightGradient);
            // The two programs really differ: im2col kernels write a column matrix, direct ones have none.
            Assert.Equal(budget == 0 ? 0 : 6, compiled.Program.Buffers.Count(b => b.Name.EndsWith("_columns", StringComparison.Ordinal)));

            var ev = new Evaluation.Evaluator(compiled.Program);
            ev.Init();
            var rng = new Random(5001);
            var losses = new uint[3];
            for (int step = 0; step < losses.Length; step++)
            {
                var t = new float[3];
                t[rng.Next(3)] = 1f;
                losses[step] = BitConverter.SingleToUInt32Bits(ev.TrainStep(DistinctInput(rng, net.Input), t));
            }
            results[budget] = (losses, model.Parameters.ToDictionary(q => q.Name,
                q => ev.ReadBits(compiled.Program.Parameters.Single(v => v.Name == q.Name).Buffer)));
        }
        var (direct, im2col) = (results[0], results[int.MaxValue]);
        Assert.Equal(direct.Losses, im2col.Losses);
        foreach (var q in model.Parameters)
        {
            Assert.True(direct.Parameters[q.Name].SequenceEqual(im2col.Parameters[q.Name]), $"{p.Name()} {q.Name}: direct and im2col differ after 3 steps");
            // Training moved every trainable parameter (so the comparison is not of the initial values).
            var initial = q.Initial.Select(v => p == Precision.Fp32 ? BitConverter.SingleToUInt32Bits(v) : BitConverter.HalfToUInt16Bits((Half)v)).ToArray();
            Assert.Equal(q.Trainable, !initial.SequenceEqual(direct.Parameters[q.Name]));
        }
        output.WriteLine($"{p.Name()}: losses {string.Join(", ", direct.Losses.Select(b => BitConverter.UInt32BitsToSingle(b)))}; " +
            $"{model.Parameters.Sum(q => q.Initial.Count)} parameter values bit-identical");
    }

    // ---- Random geometries.

    /// <summary>
    /// Checks <paramref name="iter"/> random cases (each its own network, precision and seed; CsCheck shrinks a failure to
    /// a small one) and prints the largest errors seen per precision.
    /// </summary>
    private void Property<T>(string what, Gen<T> cases, Func<T, (Net Net, Precision Precision, int Seed, int Budget)> make,
        Action<T, List<string>> checkNames, int iter)
    {
        var gate = new object();
        var worst = new Dictionary<Precision, (double Forward, double Gradient, int Count)>();
        cases.Sample(c =>
        {
            var (net, p, seed, budget) = make(c);
            var (forward, gradients) = Agreements(net.Label, p);
            checkNames(c, Check(net, p, seed, forward, gradients, budget));
            lock (gate)
            {
                var (f, g, n) = worst.GetValueOrDefault(p);
                worst[p] = (Math.Max(f, forward.MaxRelError), Math.Max(g, gradients.MaxRelError), n + 1);
            }
            if (!forward.Passed) forward.Verify(null);
            if (!gradients.Passed) gradients.Verify(null);
        }, iter: iter);
        foreach (var (p, (f, g, n)) in worst.OrderBy(e => e.Key))
            output.WriteLine($"{what}, {p.Name()}: {n} cases, max rel err forward {f:E3}, gradients {g:E3}");
    }

    public sealed record ConvCase(int Groups, int InPerGroup, int OutPerGroup, Window2d Window, bool Bias, Precision Precision, bool Direct, int Seed)
    {
        public int In => Groups * InPerGroup;
        public int Out => Groups * OutPerGroup;
        public override string ToString() =>
            $"conv {In}->{Out} g{Groups} {Describe(Window)} bias={Bias} {Precision.Name()} {(Direct ? "direct" : "im2col")} seed {Seed}";
    }

    private static readonly Gen<ConvCase> ConvCases =
        from groups in Gen.Int[1, 3]
        from inPer in Gen.Int[1, 2]
        from outPer in Gen.Int[1, 2]
        from kernel in Gen.Int[1, 3].Array[2]
        from stride in Gen.Int[1, 3].Array[2]
        from pads in Gen.Int[0, 2].Array[4]
        from size in Gen.Int[1, 7].Array[2]
        from bias in Gen.Bool
        from precision in Gen.Int[0, 2]
        from direct in Gen.Bool
        from seed in Gen.Int[0, 1_000_000]
        where kernel[0] <= size[0] + pads[0] + pads[2] && kernel[1] <= size[1] + pads[1] + pads[3]
        select new ConvCase(groups, inPer, outPer, new Window2d(size[0], size[1], kernel[0], kernel[1], stride[0], stride[1], pads[0], pads[1], pads[2], pads[3]),
            bias, (Precision)precision, direct, seed);

    /// <summary>Random channels, groups, kernels, strides and paddings per axis, bias or not, every precision, either algorithm.</summary>
    [Fact]
    public void Random_conv_geometries_match_float64_and_finite_differences() =>
        Property("random conv geometries", ConvCases,
            c => (Single(c.ToString(), new Shape(c.In, c.Window.Height, c.Window.Width), Conv("op", c.In, c.Out, c.Window, c.Groups, c.Bias), new Random(c.Seed)),
                c.Precision, c.Seed, c.Direct ? 0 : int.MaxValue),
            (c, names) => Assert.Equal(c.Bias ? SingleGradients("weight", "bias") : SingleGradients("weight"), names),
            iter: 200);

    public sealed record PoolCase(int Channels, string Kind, Window2d Window, Precision Precision, int Seed)
    {
        public override string ToString() => $"{Kind} pool {Channels}x{Describe(Window)} {Precision.Name()} seed {Seed}";
    }

    /// <summary>Paddings smaller than the kernel on every side (the builder's rule: no window of padding only).</summary>
    private static readonly Gen<PoolCase> PoolCases =
        from kernel in Gen.Int[1, 3].Array[2]
        from stride in Gen.Int[1, 3].Array[2]
        from top in Gen.Int[0, kernel[0] - 1]
        from bottom in Gen.Int[0, kernel[0] - 1]
        from left in Gen.Int[0, kernel[1] - 1]
        from right in Gen.Int[0, kernel[1] - 1]
        from size in Gen.Int[1, 7].Array[2]
        from channels in Gen.Int[1, 3]
        from kind in Gen.OneOf("max", "average", "average count_include_pad")
        from precision in Gen.Int[0, 2]
        from seed in Gen.Int[0, 1_000_000]
        where kernel[0] <= size[0] + top + bottom && kernel[1] <= size[1] + left + right
        select new PoolCase(channels, kind, new Window2d(size[0], size[1], kernel[0], kernel[1], stride[0], stride[1], top, left, bottom, right), (Precision)precision, seed);

    [Fact]
    public void Random_pool_geometries_match_float64_and_finite_differences() =>
        Property("random pool geometries", PoolCases,
            c => (Single(c.ToString(), new Shape(c.Channels, c.Window.Height, c.Window.Width),
                    c.Kind == "max" ? MaxPool("op", c.Channels, c.Window) : AveragePool("op", c.Channels, c.Window, c.Kind.EndsWith("include_pad", StringComparison.Ordinal)),
                    new Random(c.Seed)),
                c.Precision, c.Seed, Autodiff.DefaultIm2colBudgetBytes),
            (_, names) => Assert.Equal(SingleGradients(), names),
            iter: 200);
}

using CsCheck;
using TinyOdl.Graph;
using Xunit.Abstractions;
using static TinyOdl.Tests.MathTruth.RoundingBounds;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// PHM layers (docs/PHM.md, ANCHORS.md section 6) against calculus, in fp32, fp16 and fp16-mixed. The layer "op" follows a
/// real-valued trainable layer "pre" (a Linear for PhmLinear, a batch norm for PhmConv2d), so its input has a gradient
/// (d_pre), and feeds an MSE loss. After one training step on the evaluator (unshared arena, every tensor readable), the
/// layer is written again in float64 from the definition, on the evaluator's own input of the layer (the "pre" buffer)
/// and the model's initial parameters (rounded to binary16 by the builder for the binary16 policies):
/// W[r P + p][c Q + q][t] = sum_i A_i[r][c] F_i[p][q][t]; y = the groups-1 convolution (a linear layer is the 1x1
/// convolution of a 1x1 image) of the input with W, plus b; G = dL/dW, db, dx by plain loops; dA_i[r][c] = sum_{p,q,t}
/// G F_i, dF_i[p][q][t] = sum_{r,c} G A_i[r][c].
/// <list type="bullet">
/// <item>Against that float64 reference, every element of the built weight (op_weight), the output, dA, dF, the bias
/// gradient (d_op_bias, or d_op for a linear layer: batch 1) and the input gradient d_pre.</item>
/// <item>Against central finite differences of the float64 loss (as a function of A, F, b and the layer's input), a sample
/// of coordinates per tensor (the largest gradient and up to 5 random ones); the same finite differences against the
/// float64 backward (a self-check of the reference, rtol 1e-6: the loss is quadratic in each coordinate, so central
/// differences are exact but for cancellation).</item>
/// </list>
/// Tolerance, as in <see cref="CnnGradientTests"/>: |g_i - ref_i| &lt;= rtol * max(max_j |ref_j|, T_i) + atol, normwise per
/// tensor with the size of the terms as a floor, rtol 2e-5 / atol 1e-7 for fp32 and rtol 2e-2 / atol 1e-5 for the binary16
/// policies. T is the same float64 computation on absolute values (every term of every sum is a product, so this is the sum
/// of |terms|): |A|, |F|, |b|, |x|, and at the output T_y = 2 (sum |W x| + |b| + |t|) / m, the scale of the forward pass's
/// rounding error that reaches dL/dy.
/// Forward values per element, with rigorous bounds on their magnitudes M (sum of |terms|): W within gamma_n (n roundings
/// in the accumulation type; plus one binary16 rounding for fp16-mixed) of M_W = sum_i |A_i| |F_i|, plus up to n half
/// subnormal spacings of storage (a binary16 W can be a subnormal, ~1e-6, where its relative error alone reaches ~2 %: the
/// reported max rel err of W then exceeds its rtol and the absolute floor is what holds); y within
/// gamma_W + gamma_conv + gamma_W gamma_conv of M_y (gamma_conv for in * kh * kw + 1 roundings: the bias), plus the gradient atol (it
/// covers the subnormal errors of W times |x|, under in * kh * kw * n * 2^-25 &lt; 1e-5 here).
/// Matrix, each case both built and factored (docs/PHM.md, "Build or factored"; the factored evaluation has no W to check),
/// convolutions factored also with the direct loop nests (no im2col budget): PhmLinear n in {1, 2, 4} x (in, out) in {8x12, 4x4, 16x8} x bias or not; PhmConv2d n in {1, 2, 4} x channels
/// 4->8, 8->4 x kernels 1x1, 3x3 x strides 1, 2 x paddings 0, 1 (bias on every other case); frozen factors (trainA or trainF
/// false: no gradient tensor for it, the others right); and a CsCheck property over random shapes in fp32.
/// </summary>
public sealed class PhmGradientTests(ITestOutputHelper output)
{
    private static double GradientRTol(Precision p) => p == Precision.Fp32 ? 2e-5 : 2e-2;
    private static double GradientATol(Precision p) => p == Precision.Fp32 ? 1e-7 : 1e-5;
    private const double SelfCheckRTol = 1e-6, SelfCheckATol = 1e-10;
    private const int RandomSamples = 5;

    /// <summary>
    /// W's absolute floor: up to n &lt;= 4 roundings into the subnormals of the storage type, half a subnormal spacing each
    /// (binary16: 2^-25; a W element can be as small as 1e-6 here, where binary16's relative error reaches ~2 %).
    /// </summary>
    private static double WeightATol(Precision p) => 4 * (p == Precision.Fp32 ? Math.ScaleB(1.0, -150) : Math.ScaleB(1.0, -25));


    public static TheoryData<Precision> Precisions => new(Precision.Fp32, Precision.Fp16, Precision.Fp16Mixed);

    /// <summary>Both evaluations, whatever the rule would choose (docs/PHM.md, "Build or factored").</summary>
    private static readonly PhmEvaluation[] Evaluations = [PhmEvaluation.Build, PhmEvaluation.Factored];

    /// <summary>A PHM layer under test: a linear one when <see cref="Window"/> is null (In, Out are features), else a convolution.</summary>
    public sealed record PhmCase(int N, int In, int Out, Window2d? Window, bool Bias, Precision Precision, int Seed, bool TrainA = true, bool TrainF = true,
        PhmEvaluation Evaluation = PhmEvaluation.Build, bool Direct = false)
    {
        public bool Conv => Window is not null;
        /// <summary>The convolution W stands for: a linear layer is a 1x1 kernel over a 1x1 image.</summary>
        public Window2d Geometry => Window ?? new Window2d(1, 1, 1, 1);
        public int P => Out / N;
        public int Q => In / N;
        public int Taps => Geometry.KernelArea;
        public Shape InputShape => Window is { } w ? new Shape(In, w.Height, w.Width) : new Shape(In);

        public override string ToString()
        {
            var layer = Window is { } w
                ? $"phm_conv2d {In}->{Out} {w.Height}x{w.Width} k{w.KernelH}x{w.KernelW} s{w.StrideH}x{w.StrideW} pads[{w.PadTop},{w.PadLeft},{w.PadBottom},{w.PadRight}]"
                : $"phm_linear {In}->{Out}";
            return $"{layer} n{N} bias={Bias}{(TrainA ? "" : " A frozen")}{(TrainF ? "" : " F frozen")} {Evaluation.ToString().ToLowerInvariant()}{(Direct ? " direct" : "")} {Precision.Name()} seed {Seed}";
        }
    }

    // ---- The float64 layer, from the definition.

    /// <summary>Calls <paramref name="term"/>(w, a, f) for every product A_i[r][c] F_i[p][q][t] that goes into W[w], with the indices of the three.</summary>
    private static void ForEachTerm(PhmCase c, Action<int, int, int> term)
    {
        int n = c.N, p = c.P, q = c.Q, k = c.Taps;
        for (int i = 0; i < n; i++)
            for (int r = 0; r < n; r++)
                for (int col = 0; col < n; col++)
                    for (int pp = 0; pp < p; pp++)
                        for (int qq = 0; qq < q; qq++)
                            for (int t = 0; t < k; t++)
                                term(((r * p + pp) * c.In + col * q + qq) * k + t, (i * n + r) * n + col, ((i * p + pp) * q + qq) * k + t);
    }

    private static double[] BuildWeight(PhmCase c, double[] a, double[] f)
    {
        var w = new double[c.Out * c.In * c.Taps];
        ForEachTerm(c, (wi, ai, fi) => w[wi] += a[ai] * f[fi]);
        return w;
    }

    private static double[] Forward(PhmCase c, double[] a, double[] f, double[]? b, double[] x, bool magnitude = false) =>
        Float64Cnn.Conv2d(x, c.In, c.Geometry, BuildWeight(c, a, f), b, c.Out, 1, magnitude);

    private sealed record Gradients(double[] W, double[] G, double[] DA, double[] DF, double[] DB, double[] DX);

    /// <summary>G = dL/dW, db and dx of the convolution by plain loops from dy, then dA and dF from G.</summary>
    private static Gradients Backward(PhmCase c, double[] a, double[] f, double[] x, double[] dy)
    {
        var g = c.Geometry;
        var w = BuildWeight(c, a, f);
        int oh = Float64Cnn.OutHeight(g), ow = Float64Cnn.OutWidth(g), plane = g.Height * g.Width;
        var gw = new double[w.Length];
        var db = new double[c.Out];
        var dx = new double[x.Length];
        for (int co = 0; co < c.Out; co++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    double d = dy[(co * oh + i) * ow + j];
                    db[co] += d;
                    for (int ci = 0; ci < c.In; ci++)
                        for (int r = 0; r < g.KernelH; r++)
                            for (int col = 0; col < g.KernelW; col++)
                            {
                                int at = Float64Cnn.Tap(g, i, j, r, col);
                                if (at < 0) continue;
                                int wi = ((co * c.In + ci) * g.KernelH + r) * g.KernelW + col;
                                gw[wi] += d * x[ci * plane + at];
                                dx[ci * plane + at] += w[wi] * d;
                            }
                }
        var da = new double[a.Length];
        var df = new double[f.Length];
        ForEachTerm(c, (wi, ai, fi) =>
        {
            da[ai] += gw[wi] * f[fi];
            df[fi] += gw[wi] * a[ai];
        });
        return new Gradients(w, gw, da, df, db, dx);
    }

    private static double[] Abs(double[] v) => v.Select(Math.Abs).ToArray();

    // ---- The harness.

    private static readonly string[] Kinds = ["dA", "dF", "bias", "input"];

    /// <summary>The agreements of one precision: per kind against float64 and against finite differences, and the reference's self-check.</summary>
    private sealed class Tally
    {
        public Tally(string what, Precision p)
        {
            string at = $"{what}, {p.Name()}";
            Weight = new($"{at}: W vs float64 (per-value rigorous bound)", 0, WeightATol(p));
            Output = new($"{at}: output vs float64 (per-value rigorous bound)", 0, GradientATol(p));
            foreach (var k in Kinds)
            {
                VsFloat64[k] = new($"{at}: {k} vs float64", GradientRTol(p), GradientATol(p));
                VsFiniteDifferences[k] = new($"{at}: {k} vs finite differences", GradientRTol(p), GradientATol(p));
            }
            SelfCheck = new($"{at}: finite differences vs float64 backward (reference self-check)", SelfCheckRTol, SelfCheckATol);
        }

        public Agreement Weight { get; }
        public Agreement Output { get; }
        public Dictionary<string, Agreement> VsFloat64 { get; } = [];
        public Dictionary<string, Agreement> VsFiniteDifferences { get; } = [];
        public Agreement SelfCheck { get; }
        public IEnumerable<Agreement> All => [Weight, Output, .. VsFloat64.Values, .. VsFiniteDifferences.Values, SelfCheck];

        public string Maxima() => string.Join(", ", Kinds.Select(k => $"{k} {VsFloat64[k].MaxRelError:E2}/{VsFiniteDifferences[k].MaxRelError:E2}"))
            + $"; W {Weight.MaxRelError:E2}, output {Output.MaxRelError:E2} (max rel err vs float64 / vs finite differences)";
    }

    private static Model BuildModel(PhmCase c)
    {
        var b = new ModelBuilder("phm_truth", c.InputShape, (ulong)c.Seed + 1) { DefaultPrecision = c.Precision };
        var pre = c.Conv ? b.BatchNorm("pre", b.Input) : b.Linear("pre", b.Input, c.In);
        var y = c.Window is { } w
            ? b.PhmConv2d("op", pre, c.Out, c.N, w, c.Bias, c.TrainA, c.TrainF, evaluation: c.Evaluation)
            : b.PhmLinear("op", pre, c.Out, c.N, c.Bias, c.TrainA, c.TrainF, evaluation: c.Evaluation);
        return b.MseLoss("loss", y).Build(new SgdOptimizer(0.01f));
    }

    /// <summary>The largest |reference| and up to <see cref="RandomSamples"/> random other coordinates.</summary>
    private static IEnumerable<int> SampleCoordinates(Random rng, double[] reference)
    {
        if (reference.Length == 0) return [];
        int largest = Array.IndexOf(reference, reference.MaxBy(Math.Abs));
        return new[] { largest }.Concat(Enumerable.Range(0, reference.Length).OrderBy(_ => rng.Next()).Take(RandomSamples)).Distinct().ToArray();
    }

    /// <summary>
    /// Compares one gradient tensor: every element with float64, sampled ones with finite differences of
    /// <paramref name="loss"/> with respect to <paramref name="wrt"/> (and those with the float64 backward).
    /// </summary>
    private static void CheckGradient(Tally tally, string kind, string where, float[] actual, double[] reference, double[] terms,
        Func<double> loss, double[] wrt, Random rng)
    {
        Assert.Equal(reference.Length, actual.Length);
        double norm = reference.Length == 0 ? 0 : reference.Max(Math.Abs);
        for (int i = 0; i < actual.Length; i++) tally.VsFloat64[kind].Check(actual[i], reference[i], $"{where}[{i}]", Math.Max(norm, terms[i]));
        foreach (int i in SampleCoordinates(rng, reference))
        {
            double fd = FiniteDifferenceTests.CentralDifference(loss, wrt, i);
            tally.VsFiniteDifferences[kind].Check(actual[i], fd, $"{where}[{i}]", Math.Max(norm, terms[i]));
            tally.SelfCheck.Check(reference[i], fd, $"{where}[{i}]", Math.Max(norm, terms[i]));
        }
    }

    /// <summary>One training step of <paramref name="c"/> on the evaluator, checked against float64 and finite differences.</summary>
    private static void Check(PhmCase c, Tally tally)
    {
        var rng = new Random(c.Seed);
        var model = BuildModel(c);
        double[] Initial(string name) => TestData.ToDouble(model.Parameters.Single(q => q.Name == name).Initial);
        // Inputs exact in binary16, so every policy sees the same x.
        var x = TestData.Uniform(rng, c.InputShape.Elements, -1f, 1f).Select(v => (float)(Half)v).ToArray();
        int m = c.Out * Float64Cnn.OutHeight(c.Geometry) * Float64Cnn.OutWidth(c.Geometry);
        var t = TestData.Uniform(rng, m, -1f, 1f);
        var td = TestData.ToDouble(t);
        // Direct: no im2col scratch allowed, so the convolution-shaped passes run their direct loop nests.
        var run = new EvalRun(model, c.Direct ? 0 : Passes.Autodiff.DefaultIm2colBudgetBytes);
        run.TrainStep(x, t);
        string at = c.ToString();

        // The reference on the evaluator's own input of the layer and the model's initial parameters.
        var h = TestData.ToDouble(run.Read("pre"));
        var a = Initial("op_a");
        var f = Initial("op_f");
        var b = c.Bias ? Initial("op_bias") : null;
        var y = Forward(c, a, f, b, h);
        var r = Backward(c, a, f, h, Float64Reference.MseGradient(y, td));
        // The sizes of the terms: the same computation on absolute values.
        var ym = Forward(c, Abs(a), Abs(f), b is null ? null : Abs(b), Abs(h), magnitude: true);
        var ty = ym.Select((v, i) => 2 * (v + Math.Abs(td[i])) / m).ToArray();
        var terms = Backward(c, Abs(a), Abs(f), Abs(h), ty);

        // The built W is checked where it exists; the factored evaluation forms no W, and its output is held to the same
        // bound below (U's n-term sums in the accumulation type take W's place in it).
        bool factored = Passes.PhmEvaluationPlan.For(model.Nodes.OfType<PhmLayerNode>().Single(), inputGradient: true).Factored;
        Assert.True(c.Evaluation == PhmEvaluation.Auto || factored == (c.Evaluation == PhmEvaluation.Factored), $"{at}: evaluation not as requested");
        Assert.True(run.Has("op_weight") != factored && run.Has("op_mixed") == factored, $"{at}: W built = {run.Has("op_weight")}, factored = {factored}");
        double weightBound = Accumulation(c.Precision, c.N), convBound = Accumulation(c.Precision, c.In * c.Taps + 1);
        if (!factored)
        {
            var w = run.Read("op_weight");
            for (int i = 0; i < w.Length; i++) tally.Weight.Check(w[i], r.W[i], $"{at} op_weight[{i}]", terms.W[i], weightBound);
        }
        var yEval = run.Read("op");
        for (int i = 0; i < yEval.Length; i++) tally.Output.Check(yEval[i], y[i], $"{at} op[{i}]", ym[i], (weightBound + convBound + weightBound * convBound) * 1.001);

        double Loss() => Float64Reference.Mse(Forward(c, a, f, b, h), td);
        Assert.Equal(c.TrainA, run.Has("d_op_a"));
        Assert.Equal(c.TrainF, run.Has("d_op_f"));
        if (c.TrainA) CheckGradient(tally, "dA", $"{at} d_op_a", run.Read("d_op_a"), r.DA, terms.DA, Loss, a, rng);
        if (c.TrainF) CheckGradient(tally, "dF", $"{at} d_op_f", run.Read("d_op_f"), r.DF, terms.DF, Loss, f, rng);
        if (b is not null)
        {
            // A linear layer's bias gradient is its output gradient (batch 1).
            string name = run.Has("d_op_bias") ? "d_op_bias" : "d_op";
            Assert.True(c.Conv || name == "d_op", $"{at}: a linear bias gradient is expected in d_op");
            CheckGradient(tally, "bias", $"{at} {name}", run.Read(name), r.DB, terms.DB, Loss, b, rng);
        }
        CheckGradient(tally, "input", $"{at} d_pre", run.Read("d_pre"), r.DX, terms.DX, Loss, h, rng);
    }

    /// <summary>Checks every case, prints the agreements and the maxima, then fails on any disagreement; returns the case count.</summary>
    private int CheckAll(string what, Precision p, IEnumerable<PhmCase> cases)
    {
        var tally = new Tally(what, p);
        int count = 0;
        foreach (var c in cases)
        {
            Check(c, tally);
            count++;
        }
        output.WriteLine($"{what}, {p.Name()}: {count} cases; {tally.Maxima()}");
        foreach (var agreement in tally.All.Where(a => a.Count > 0)) agreement.Verify(output);
        return count;
    }

    // ---- The matrix.

    private static IEnumerable<PhmCase> LinearMatrix(Precision p, int firstSeed)
    {
        int seed = firstSeed;
        foreach (var evaluation in Evaluations)
            foreach (int n in new[] { 1, 2, 4 })
                foreach (var (inF, outF) in new[] { (8, 12), (4, 4), (16, 8) })
                    foreach (bool bias in new[] { true, false })
                        yield return new PhmCase(n, inF, outF, null, bias, p, ++seed, Evaluation: evaluation);
    }

    /// <summary>An input of 6 or 7 rows (so that stride 2 does not divide the padded extent minus the kernel on that axis) and 5 columns.</summary>
    private static Window2d ConvWindow(int kernel, int stride, int pad)
    {
        int h = (6 + 2 * pad - kernel) % 2 == 1 ? 6 : 7;
        return new Window2d(h, 5, kernel, kernel, stride, stride, pad, pad, pad, pad);
    }

    private static IEnumerable<PhmCase> ConvMatrix(Precision p, int firstSeed)
    {
        int seed = firstSeed;
        foreach (var (evaluation, direct) in new[] { (PhmEvaluation.Build, false), (PhmEvaluation.Factored, false), (PhmEvaluation.Factored, true) })
            foreach (int n in new[] { 1, 2, 4 })
                foreach (var (cin, cout) in new[] { (4, 8), (8, 4) })
                    foreach (int kernel in new[] { 1, 3 })
                        foreach (int stride in new[] { 1, 2 })
                            foreach (int pad in new[] { 0, 1 })
                                yield return new PhmCase(n, cin, cout, ConvWindow(kernel, stride, pad), Bias: seed % 2 == 0, p, ++seed, Evaluation: evaluation, Direct: direct);
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void PhmLinear_gradients_match_float64_and_finite_differences(Precision p) =>
        Assert.Equal(36, CheckAll("phm_linear", p, LinearMatrix(p, 10_000)));

    [Theory]
    [MemberData(nameof(Precisions))]
    public void PhmConv2d_gradients_match_float64_and_finite_differences(Precision p) =>
        Assert.Equal(144, CheckAll("phm_conv2d", p, ConvMatrix(p, 20_000)));

    /// <summary>A frozen factor has no gradient tensor; the other factor's, the bias's and the input's gradients are still right.</summary>
    [Theory]
    [MemberData(nameof(Precisions))]
    public void Frozen_factor_has_no_gradient_and_the_others_match(Precision p) =>
        Assert.Equal(16, CheckAll("phm frozen factor", p,
            from evaluation in Evaluations
            from n in new[] { 2, 4 }
            from conv in new[] { false, true }
            from frozenA in new[] { true, false }
            let seed = 30_000 + n * 10 + (conv ? 2 : 0) + (frozenA ? 1 : 0)
            select new PhmCase(n, 8, 4, conv ? ConvWindow(3, 1, 1) : null, Bias: true, p, seed, TrainA: !frozenA, TrainF: frozenA, Evaluation: evaluation)));

    // ---- Random shapes.

    private static readonly Gen<PhmCase> RandomCases =
        from conv in Gen.Bool
        from n in Gen.Int[1, 4]
        from pq in Gen.Int[1, 3].Array[2]
        from kernel in Gen.Int[1, 3].Array[2]
        from stride in Gen.Int[1, 2].Array[2]
        from pads in Gen.Int[0, 1].Array[4]
        from size in Gen.Int[1, 6].Array[2]
        from bias in Gen.Bool
        from frozen in Gen.Int[0, 2]
        from evaluation in Gen.Enum<PhmEvaluation>()
        from direct in Gen.Bool
        from seed in Gen.Int[0, 1_000_000]
        where !conv || (kernel[0] <= size[0] + pads[0] + pads[2] && kernel[1] <= size[1] + pads[1] + pads[3])
        select new PhmCase(n, n * pq[1], n * pq[0],
            conv ? new Window2d(size[0], size[1], kernel[0], kernel[1], stride[0], stride[1], pads[0], pads[1], pads[2], pads[3]) : null,
            bias, Precision.Fp32, seed, TrainA: frozen != 1, TrainF: frozen != 2, Evaluation: evaluation, Direct: direct);

    /// <summary>
    /// Random n (1-4), P and Q (1-3), linear or convolution with random kernels, strides and paddings per axis, bias or not,
    /// one factor frozen or none; fp32. Each case has its own agreements (CsCheck shrinks a failure); the maxima are printed.
    /// </summary>
    [Fact]
    public void Random_shapes_fp32_gradients_match_float64_and_finite_differences()
    {
        var gate = new object();
        var worst = Kinds.ToDictionary(k => k, _ => (Float64: 0.0, FiniteDifferences: 0.0));
        int cases = 0;
        RandomCases.Sample(c =>
        {
            var tally = new Tally("random phm shapes", c.Precision);
            Check(c, tally);
            lock (gate)
            {
                cases++;
                foreach (var k in Kinds)
                    worst[k] = (Math.Max(worst[k].Float64, tally.VsFloat64[k].MaxRelError), Math.Max(worst[k].FiniteDifferences, tally.VsFiniteDifferences[k].MaxRelError));
            }
            foreach (var agreement in tally.All.Where(a => !a.Passed)) agreement.Verify(null);
        }, iter: 200);
        output.WriteLine($"random phm shapes, fp32: {cases} cases; " +
            string.Join(", ", Kinds.Select(k => $"{k} {worst[k].Float64:E2}/{worst[k].FiniteDifferences:E2}")) + " (max rel err vs float64 / vs finite differences)");
    }
}

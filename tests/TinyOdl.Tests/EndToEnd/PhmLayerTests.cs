using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Graph;
using TinyOdl.Targets;

namespace TinyOdl.Tests.EndToEnd;

/// <summary>
/// PHM layers against the ordinary layers they generalize: with n = 1 and A = [[1]] frozen, W = F exactly, so the
/// training run is the ordinary layer's bit for bit; and sizes that n does not divide are refused naming the layer.
/// </summary>
public sealed class PhmLayerTests
{
    private static readonly (Dataset Train, Dataset Test) Data = Dataset.Synthetic(12, 3 * 5 * 5, 3, 4).Split(0.25, 3);

    private static IReadOnlyList<ProtocolLine> Trace(Model m, Precision p) =>
        HarnessSimulator.Run(Pipeline.Compile(m, Board.Load(p == Precision.Fp32 ? "qemu-virt-rv32" : "qemu-virt-rv32-zfh")).Program,
            RunPlan.Verify(Data.Train, Data.Test, 5));

    /// <summary>conv (ordinary or PHM with n = 1) -> relu -> linear (ordinary or PHM with n = 1) -> CE; the same initial weights.</summary>
    private static Model Net(Precision p, bool phm)
    {
        var b = new ModelBuilder(phm ? "phm1" : "plain", new Shape(3, 5, 5), seed: 11) { DefaultPrecision = p };
        var window = new Window2d(5, 5, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1);
        // Signed zeros included: W = A_0 * F_0 must keep them (a chain started from +0 would not).
        var convW = Enumerable.Range(0, 4 * 3 * 9).Select(i => i % 17 == 5 ? -0f : (float)Math.Sin(i * 0.7) * 0.3f).ToArray();
        var fcW = Enumerable.Range(0, 3 * 100).Select(i => (float)Math.Cos(i * 0.3) * 0.1f).ToArray();
        var h = phm
            ? b.PhmConv2d("conv", b.Input, 4, 1, window, trainA: false, a: [1f], f: convW)
            : b.Conv2d("conv", b.Input, 4, window, weight: convW);
        h = b.Relu("relu", h);
        var y = phm ? b.PhmLinear("fc", h, 3, 1, trainA: false, a: [1f], f: fcW) : b.Linear("fc", h, 3, weight: fcW);
        return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.05f, Momentum: 0.9f, WeightDecay: 0.001f));
    }

    [Theory]
    [InlineData("fp32")]
    [InlineData("fp16")]
    [InlineData("fp16-mixed")]
    public void N1_with_a_frozen_at_one_trains_exactly_as_the_ordinary_layers(string precision)
    {
        var p = PrecisionExtensions.Parse(precision, "test");
        var plain = Trace(Net(p, phm: false), p);
        var phm = Trace(Net(p, phm: true), p);
        // Every loss, accuracy and prediction line is identical.
        static string[] Steps(IEnumerable<ProtocolLine> lines) => lines.Where(l => l.Keyword is not ("model" or "param")).Select(l => l.ToString()).ToArray();
        Assert.Equal(Steps(plain), Steps(phm));
        // F ends where W ends, bit for bit; biases too.
        string[] Param(IReadOnlyList<ProtocolLine> lines, string name) => lines.Single(l => l.Keyword == "param" && l.Fields[0] == name).Fields.Skip(1).ToArray();
        foreach (var (ordinary, factor) in new[] { ("conv_weight", "conv_f"), ("fc_weight", "fc_f"), ("conv_bias", "conv_bias"), ("fc_bias", "fc_bias") })
            Assert.Equal(Param(plain, ordinary), Param(phm, factor));
        Assert.Equal(["1", p == Precision.Fp32 ? "3f800000" : "3c00"], Param(phm, "fc_a"));
    }

    [Theory]
    [InlineData(3, 12, 8)]
    [InlineData(4, 10, 8)]
    [InlineData(0, 8, 8)]
    public void Sizes_not_divisible_by_n_name_the_layer(int n, int inFeatures, int outFeatures)
    {
        var b = new ModelBuilder("bad", new Shape(inFeatures));
        var e = Assert.Throws<TinyOdlException>(() => b.PhmLinear("pfc", b.Input, outFeatures, n));
        Assert.Contains("node 'pfc'", e.Message);
        Assert.Contains(n < 1 ? "n must be at least 1" : $"must both be divisible by n = {n}", e.Message);
    }

    /// <summary>A PHM layer "op" on a [4, 6, 6] input, behind a trainable batch norm (input gradient) or first (none).</summary>
    private static Model Layer(int n, bool conv, Window2d? window, bool trainA, bool trainF, bool inputGradient, PhmEvaluation evaluation)
    {
        var b = new ModelBuilder("phm_plan", new Shape(4, 6, 6), seed: 5);
        var x = inputGradient ? b.BatchNorm("pre", b.Input) : b.Input;
        var y = conv
            ? b.PhmConv2d("op", x, 8, n, window!, trainA: trainA, trainF: trainF, evaluation: evaluation)
            : b.PhmLinear("op", b.Flatten("flat", x), 8, n, trainA: trainA, trainF: trainF, evaluation: evaluation);
        return b.MseLoss("loss", y).Build(new SgdOptimizer(0.01f));
    }

    public static TheoryData<int, bool, int, bool, bool, bool> PlanCases()
    {
        var data = new TheoryData<int, bool, int, bool, bool, bool>();
        foreach (int n in new[] { 2, 4 })
            foreach (var (conv, kernel) in new[] { (false, 1), (true, 1), (true, 3) })
                foreach (var (trainA, trainF) in new[] { (true, true), (false, true), (true, false), (false, false) })
                    foreach (bool inputGradient in new[] { true, false })
                        data.Add(n, conv, kernel, trainA, trainF, inputGradient);
        return data;
    }

    /// <summary>
    /// PhmEvaluationPlan's MAC counts are the lowered program's (the sum over the layer's kernel calls), for both
    /// evaluations, every trainable combination and with or without an input gradient; and Auto takes the cheaper one.
    /// </summary>
    [Theory]
    [MemberData(nameof(PlanCases))]
    public void Evaluation_plan_counts_the_lowered_macs_and_auto_takes_the_cheaper(int n, bool conv, int kernel, bool trainA, bool trainF, bool inputGradient)
    {
        var window = conv ? new Window2d(6, 6, kernel, kernel, PadTop: kernel / 2, PadLeft: kernel / 2, PadBottom: kernel / 2, PadRight: kernel / 2) : null;
        long LayerMacs(Model m) => Pipeline.Compile(m, Board.Load("qemu-virt-rv32")).Program.TrainStep.Calls
            .Where(c => c.Comment == "op" || c.Comment.StartsWith("op_", StringComparison.Ordinal)).Sum(c => c.Macs);
        var build = Layer(n, conv, window, trainA, trainF, inputGradient, PhmEvaluation.Build);
        var factored = Layer(n, conv, window, trainA, trainF, inputGradient, PhmEvaluation.Factored);
        var plan = Passes.PhmEvaluationPlan.For(build.Nodes.OfType<PhmLayerNode>().Single(), inputGradient);
        Assert.Equal(plan.BuildMacs, LayerMacs(build));
        Assert.Equal(plan.FactoredMacs, LayerMacs(factored));
        long auto = LayerMacs(Layer(n, conv, window, trainA, trainF, inputGradient, PhmEvaluation.Auto));
        Assert.Equal(Math.Min(plan.BuildMacs, plan.FactoredMacs), auto);
    }

    /// <summary>
    /// The factored convolution passes run as a matrix product over im2col columns of U or as direct loop nests; like
    /// the convolution's algorithms, the choice changes no bits (same products, same order, +0 for padded taps).
    /// </summary>
    [Theory]
    [InlineData("fp32")]
    [InlineData("fp16")]
    [InlineData("fp16-mixed")]
    public void Factored_im2col_and_direct_train_bit_identically(string precision)
    {
        var p = PrecisionExtensions.Parse(precision, "test");
        var board = Board.Load(p == Precision.Fp32 ? "qemu-virt-rv32" : "qemu-virt-rv32-zfh");
        Model Net()
        {
            var b = new ModelBuilder("factored", new Shape(3, 5, 5), seed: 13) { DefaultPrecision = p };
            var h = b.Relu("relu", b.BatchNorm("bn", b.Input));
            h = b.PhmConv2d("pconv", h, 6, 3, new Window2d(5, 5, 3, 3, 2, 2, 1, 1, 1, 1), evaluation: PhmEvaluation.Factored);
            var y = b.PhmLinear("pfc", h, 3, 3, evaluation: PhmEvaluation.Factored);
            return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.05f, Momentum: 0.9f));
        }
        IReadOnlyList<ProtocolLine> Run(int budget, string algorithm)
        {
            var program = Pipeline.Compile(Net(), board, im2colBudgetBytes: budget).Program;
            Assert.Contains(program.TrainStep.Calls, c => c.Kernel.Name.StartsWith($"phm_forward_factored_{p.KernelTag()}_{algorithm}_", StringComparison.Ordinal));
            return HarnessSimulator.Run(program, RunPlan.Verify(Data.Train, Data.Test, 5));
        }
        var im2col = Run(Passes.Autodiff.DefaultIm2colBudgetBytes, "im2col");
        var direct = Run(0, "direct");
        // Every line but the header (its arena size differs by the column scratch): losses, predictions, parameters.
        static string[] Body(IEnumerable<ProtocolLine> lines) => lines.Where(l => l.Keyword != "model").Select(l => l.ToString()).ToArray();
        Assert.Equal(Body(im2col), Body(direct));
    }

    /// <summary>
    /// n = 1 always builds under Auto, even where the factored evaluation would need fewer MACs: W = A_0 F_0 is a scaled
    /// copy of F, and building it keeps the layer the ordinary one bit for bit (N1_with_a_frozen_at_one_...).
    /// </summary>
    [Fact]
    public void Auto_builds_w_for_n_1_even_when_factoring_needs_fewer_macs()
    {
        var model = Layer(1, conv: false, null, trainA: true, trainF: true, inputGradient: true, PhmEvaluation.Auto);
        var plan = Passes.PhmEvaluationPlan.For(model.Nodes.OfType<PhmLayerNode>().Single(), inputGradient: true);
        Assert.True(plan.FactoredMacs < plan.BuildMacs, $"factored {plan.FactoredMacs} vs build {plan.BuildMacs}");
        Assert.False(plan.Factored);
        var calls = Pipeline.Compile(model, Board.Load("qemu-virt-rv32")).Program.TrainStep.Calls;
        Assert.Contains(calls, c => c.Comment == "op_build_weight");
        Assert.DoesNotContain(calls, c => c.Comment == "op_mix");
    }
}

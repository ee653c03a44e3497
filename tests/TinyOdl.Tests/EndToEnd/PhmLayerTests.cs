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
}

using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Graph;
using TinyOdl.Targets;
using TinyOdl.Tests.MathTruth;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.EndToEnd;

/// <summary>
/// The Bop optimizer for binary layers (docs/BINARY.md, "Bop"): m = m + gamma * (g - m) against float64 (the gradient
/// divided by the loss scale), the flip rule w = -w where sign(w) * m &gt; tau exactly as the contract states, |W| (so
/// alpha) unchanged, the biases still on SGD and the weights never clipped; and the device (QEMU) bit-identical to the
/// evaluator.
/// </summary>
public sealed class BopTests
{
    private static readonly BopOption Option = new(Threshold: 1e-6f, Adaptivity: 0.05f);

    private static Model Bnn(Precision precision, float lossScale = 1f)
    {
        var b = new ModelBuilder("bnn_bop", new Shape(3, 6, 6), seed: 8) { DefaultPrecision = precision };
        var c1 = b.Conv2d("conv1", b.Input, 6, new Window2d(6, 6, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1));
        var b1 = b.BinaryConv2d("bconv", c1, 8, new Window2d(6, 6, 3, 3, 2, 2, 1, 1, 1, 1), bop: Option, mst: new MstOption());
        var f = b.BinaryLinear("bfc", b.Flatten("flat", b1), 9, bop: Option);
        return b.SoftmaxCrossEntropy("loss", b.Linear("fc", f, 3)).Build(new SgdOptimizer(0.05f, Momentum: 0.9f, LossScale: lossScale));
    }

    private static readonly (Dataset Train, Dataset Test) Data = Dataset.Synthetic(16, 108, 3, 17).Split(0.25, 2);

    [Theory]
    [InlineData("fp32", 1f)]
    [InlineData("fp16-mixed", 16f)]
    public void Bop_averages_the_gradient_and_flips_where_the_sign_times_m_exceeds_tau(string precision, float lossScale)
    {
        var p = PrecisionExtensions.Parse(precision, "test");
        var model = Bnn(p, lossScale);
        var run = new EvalRun(model);
        var rng = new Random(4);
        int flips = 0;
        double worst = 0;
        for (int step = 0; step < 5; step++)
        {
            var before = model.Nodes.OfType<BinaryLayerNode>().ToDictionary(l => l.Name, l => (W: run.Read(l.Weight.Name), M: run.Read("m_" + l.Weight.Name)));
            var x = TestData.Uniform(rng, 108, -1f, 1f);
            var t = new float[3];
            t[rng.Next(3)] = 1f;
            run.TrainStep(x, t);
            foreach (var layer in model.Nodes.OfType<BinaryLayerNode>())
            {
                var (w0, m0) = before[layer.Name];
                // The gradient buffer holds the loss-scaled gradient; the scale is a power of two, so dividing is exact.
                var g = run.Read("d_" + layer.Weight.Name).Select(v => v / lossScale).ToArray();
                var m = run.Read("m_" + layer.Weight.Name);
                var w = run.Read(layer.Weight.Name);
                for (int i = 0; i < w.Length; i++)
                {
                    // The moving average within one rounding of its float64 value (one fused multiply-add of an exact difference's rounding).
                    double expected = m0[i] + (double)Option.Adaptivity * ((double)g[i] - m0[i]);
                    double error = Math.Abs(m[i] - expected), scale = Math.Abs(expected) + Option.Adaptivity * Math.Abs(g[i] - m0[i]);
                    worst = Math.Max(worst, scale == 0 ? 0 : error / scale);
                    Assert.True(error <= 2 * Math.ScaleB(1.0, -24) * scale + 1e-45, $"{layer.Name} m[{i}] step {step}: {m[i]} vs {expected}");
                    // The flip rule, as the kernel states it: the average along the weight's sign (-0 counts as +), against tau.
                    bool flip = (w0[i] < 0 ? -m[i] : m[i]) > Option.Threshold;
                    Assert.Equal(flip ? -w0[i] : w0[i], w[i]);
                    Assert.Equal(Math.Abs(w0[i]), Math.Abs(w[i]));
                    if (flip) flips++;
                }
            }
        }
        Assert.True(flips > 0, "no weight flipped in 5 steps");
        Assert.True(worst < 1e-6, $"moving average relative error {worst}");
        // Only the binary weights take Bop: their biases and the real-valued layers stay on the model's SGD, and no SGD
        // (so no clipping) touches the binary weights.
        var calls = run.Program.TrainStep.Calls.Select(c => (c.Comment, c.Kernel.Name)).ToArray();
        foreach (var layer in model.Nodes.OfType<BinaryLayerNode>())
        {
            Assert.Contains(calls, c => c.Comment == layer.Weight.Name + "_bop" && c.Name.StartsWith("bop_", StringComparison.Ordinal));
            Assert.DoesNotContain(calls, c => c.Comment == layer.Weight.Name + "_sgd");
            Assert.Contains(calls, c => c.Comment == layer.Bias!.Name + "_sgd");
        }
        Assert.Contains(calls, c => c.Comment == "conv1_weight_sgd");
    }

    [Theory]
    [InlineData("fp32", "qemu-virt-rv32-zbb")]
    [InlineData("fp16-mixed", "qemu-virt-rv32-zfh")]
    public void Bop_on_the_device_is_bit_identical_to_the_evaluator(string precision, string boardName)
    {
        using var tmp = new TempDir();
        var board = Board.Load(boardName);
        var compiled = Pipeline.Compile(Bnn(PrecisionExtensions.Parse(precision, "test")), board);
        Assert.Contains(compiled.Program.TrainStep.Calls, c => c.Kernel.Name.StartsWith("bop_", StringComparison.Ordinal));
        DeviceCheck.RunMatchesEvaluator(tmp.Path, compiled, board, RunPlan.Verify(Data.Train, Data.Test, 6));
    }
}

using TinyOdl.Evaluation;
using TinyOdl.Graph;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// LeakyReLU and residual Add against calculus: a float64 forward pass of
/// fc1 -> leaky_relu -> fc2 -> add(act1, fc2) -> relu -> fc3 -> softmax cross-entropy, and central finite
/// differences of its loss, compared with the gradients the evaluator computes (float32). The residual makes act1's
/// gradient the sum of two paths (GradientAccumulate).
/// </summary>
public class ResidualGradientTests
{
    private const int In = 6, Hidden = 5, Out = 3;
    private const float Slope = 0.1f;

    private static (Model Model, float[] X, float[] T) Build(ulong seed)
    {
        var b = new ModelBuilder("residual", new Shape(In), seed);
        var a1 = b.LeakyRelu("act1", b.Linear("fc1", b.Input, Hidden), Slope);
        var sum = b.Add("sum", a1, b.Linear("fc2", a1, Hidden));
        var y = b.Linear("fc3", b.Relu("act2", sum), Out);
        var model = b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.01f));
        var rng = new SplitMix64(seed + 100);
        var x = Enumerable.Range(0, In).Select(_ => rng.NextSymmetric(2f)).ToArray();
        var t = new float[Out];
        t[rng.NextInt(Out)] = 1f;
        return (model, x, t);
    }

    /// <summary>The loss in float64 for the given parameter values (name -> values).</summary>
    private static double Loss(IReadOnlyDictionary<string, double[]> p, float[] x, float[] t)
    {
        var xd = x.Select(v => (double)v).ToArray();
        var h1 = Float64Reference.Linear(p["fc1_weight"], p["fc1_bias"], xd, Hidden);
        var a1 = h1.Select(v => v > 0 ? v : Slope * v).ToArray();
        var h2 = Float64Reference.Linear(p["fc2_weight"], p["fc2_bias"], a1, Hidden);
        var a2 = Float64Reference.Relu(a1.Zip(h2, (u, v) => u + v).ToArray());
        var y = Float64Reference.Linear(p["fc3_weight"], p["fc3_bias"], a2, Out);
        return Float64Reference.SoftmaxCrossEntropy(y, t.Select(v => (double)v).ToArray());
    }

    [Theory]
    [InlineData(1ul)]
    [InlineData(2ul)]
    [InlineData(3ul)]
    public void ParameterGradientsMatchFiniteDifferences(ulong seed)
    {
        var (model, x, t) = Build(seed);
        var compiled = Pipeline.Compile(model, shareMemory: false);
        var ev = new Evaluator(compiled.Program);
        ev.Init();
        ev.TrainStep(x, t);
        var values = model.Parameters.ToDictionary(p => p.Name, p => p.Initial.Select(v => (double)v).ToArray());
        foreach (var p in model.Parameters)
        {
            // Weight gradients have their own buffers; a bias gradient is its layer's output gradient (batch 1).
            string gradName = p.Name.EndsWith("_weight") ? "d_" + p.Name : "d_" + p.Name[..^"_bias".Length];
            var grad = ev.Read(compiled.Program.Buffers.Single(b => b.Name == gradName));
            double scale = Math.Max(1e-3, grad.Max(v => Math.Abs((double)v)));
            for (int i = 0; i < p.Initial.Count; i++)
            {
                var v = values[p.Name];
                double saved = v[i], h = 1e-5;
                v[i] = saved + h;
                double up = Loss(values, x, t);
                v[i] = saved - h;
                double down = Loss(values, x, t);
                v[i] = saved;
                double fd = (up - down) / (2 * h);
                Assert.True(Math.Abs(fd - grad[i]) <= 2e-4 * scale, $"{p.Name}[{i}]: finite difference {fd}, evaluator {grad[i]}");
            }
        }
    }

    [Fact]
    public void TheResidualInputAccumulatesBothPaths()
    {
        var graph = Passes.Autodiff.Build(Build(1).Model);
        Assert.Contains(graph.Ops, o => o is Passes.GradientAccumulate g && g.Acc.Name == "d_act1");
        Assert.Contains(graph.Ops, o => o.Name == "sum_backward_a");
        Assert.Contains(graph.Ops, o => o.Name == "sum_backward_b");
    }
}

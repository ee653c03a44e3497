using TinyOdl.Evaluation;
using TinyOdl.Graph;
using TinyOdl.Kernels;
using TinyOdl.Passes;

namespace TinyOdl.Tests.MathTruth;

/// <summary>One Linear layer of a test MLP, optionally followed by a ReLU.</summary>
internal sealed record LayerSpec(int Out, bool Bias = true, bool Relu = false, bool TrainWeight = true, bool TrainBias = true);

/// <summary>
/// A test MLP: layers fc1..fcN (ReLUs relu1..reluN), a loss, and float32 initial values drawn by the test's own
/// generator (PyTorch's U(-1/sqrt(in), 1/sqrt(in))). The same values feed <see cref="ModelBuilder"/> and the
/// float64 <see cref="ReferenceNet"/>, so both start from exactly the same point.
/// </summary>
internal sealed class NetSpec
{
    public NetSpec(string id, int inFeatures, LossKind loss, params LayerSpec[] layers)
    {
        Id = id;
        In = inFeatures;
        Loss = loss;
        Layers = layers;
    }

    public string Id { get; }
    public int In { get; }
    public LossKind Loss { get; }
    public IReadOnlyList<LayerSpec> Layers { get; }
    public int Out => Layers[^1].Out;
    public override string ToString() => Id;

    public int InputOf(int k) => k == 0 ? In : Layers[k - 1].Out;

    /// <summary>Initial weights and biases, exact float32 values.</summary>
    public (float[][] W, float[]?[] B) Draw(int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var w = new float[Layers.Count][];
        var b = new float[]?[Layers.Count];
        for (int k = 0; k < Layers.Count; k++)
        {
            float bound = scale / MathF.Sqrt(InputOf(k));
            w[k] = TestData.Uniform(rng, Layers[k].Out * InputOf(k), -bound, bound);
            b[k] = Layers[k].Bias ? TestData.Uniform(rng, Layers[k].Out, -bound, bound) : null;
        }
        return (w, b);
    }

    public Model Build((float[][] W, float[]?[] B) init, SgdOptimizer optimizer)
    {
        var mb = new ModelBuilder("mathtruth_" + Id.Replace('-', '_'), new Shape(In), seed: 7);
        var v = mb.Input;
        for (int k = 0; k < Layers.Count; k++)
        {
            var l = Layers[k];
            v = mb.Linear($"fc{k + 1}", v, l.Out, bias: l.Bias, trainWeight: l.TrainWeight, trainBias: l.TrainBias,
                weight: init.W[k], biasValues: init.B[k]);
            if (l.Relu) v = mb.Relu($"relu{k + 1}", v);
        }
        return (Loss == LossKind.MeanSquaredError ? mb.MseLoss("loss", v) : mb.SoftmaxCrossEntropy("loss", v)).Build(optimizer);
    }

    public ReferenceNet Reference((float[][] W, float[]?[] B) init)
    {
        var layers = new List<ReferenceNet.Layer>();
        for (int k = 0; k < Layers.Count; k++)
        {
            var l = Layers[k];
            layers.Add(new ReferenceNet.Layer
            {
                Name = $"fc{k + 1}",
                In = InputOf(k),
                Out = l.Out,
                W = TestData.ToDouble(init.W[k]),
                B = init.B[k] is { } b ? TestData.ToDouble(b) : null,
                TrainWeight = l.TrainWeight,
                TrainBias = l.TrainBias,
                ReluName = l.Relu ? $"relu{k + 1}" : null,
            });
        }
        return new ReferenceNet(layers, Loss);
    }

    /// <summary>A target for this net's loss: uniform values for MSE, a one-hot class for cross-entropy.</summary>
    public float[] Target(Random rng)
    {
        if (Loss == LossKind.MeanSquaredError) return TestData.Uniform(rng, Out, -1f, 1f);
        var t = new float[Out];
        t[rng.Next(Out)] = 1f;
        return t;
    }

    /// <summary>
    /// The scale a float32 loss's rounding error is proportional to: |L| for MSE; for softmax cross-entropy
    /// sum_i |t_i|, because log(sum_j exp(y_j - max)) of a sum close to 1 has an ABSOLUTE error of a few u
    /// (a confident prediction's small loss therefore has a large relative error, as in any float32 log-sum-exp).
    /// </summary>
    public static double LossScale(LossKind loss, IEnumerable<float> target) =>
        loss == LossKind.MeanSquaredError ? 0 : target.Sum(v => Math.Abs((double)v));

    /// <summary>The models every MathTruth comparison runs on: 1-3 Linear layers, bias or not, ReLUs, both losses, frozen layers.</summary>
    public static readonly IReadOnlyList<NetSpec> All =
    [
        new("l1-mse", 5, LossKind.MeanSquaredError, new LayerSpec(3)),
        new("l1-mse-nobias", 7, LossKind.MeanSquaredError, new LayerSpec(4, Bias: false)),
        new("l1-ce", 6, LossKind.SoftmaxCrossEntropy, new LayerSpec(4)),
        new("l2-relu-mse", 6, LossKind.MeanSquaredError, new LayerSpec(8, Relu: true), new LayerSpec(3)),
        new("l2-relu-ce", 10, LossKind.SoftmaxCrossEntropy, new LayerSpec(16, Relu: true), new LayerSpec(5)),
        new("l2-linear-ce-nobias", 4, LossKind.SoftmaxCrossEntropy, new LayerSpec(6, Bias: false), new LayerSpec(3, Bias: false)),
        new("l3-relu-ce-mixed", 12, LossKind.SoftmaxCrossEntropy,
            new LayerSpec(10, Relu: true), new LayerSpec(8, Bias: false, Relu: true), new LayerSpec(4)),
        new("l3-mse-norelu", 4, LossKind.MeanSquaredError, new LayerSpec(6), new LayerSpec(6, Bias: false), new LayerSpec(2)),
        new("l3-relu-mse-relu-out", 5, LossKind.MeanSquaredError,
            new LayerSpec(7, Relu: true), new LayerSpec(6, Relu: true), new LayerSpec(3, Relu: true)),
        new("l2-frozen-first", 6, LossKind.MeanSquaredError,
            new LayerSpec(8, Relu: true, TrainWeight: false, TrainBias: false), new LayerSpec(3)),
        new("l2-frozen-first-weight", 6, LossKind.SoftmaxCrossEntropy,
            new LayerSpec(8, Relu: true, TrainWeight: false), new LayerSpec(4)),
        new("l2-frozen-last", 5, LossKind.SoftmaxCrossEntropy,
            new LayerSpec(7, Relu: true), new LayerSpec(3, TrainWeight: false, TrainBias: false)),
        new("l3-frozen-middle", 6, LossKind.MeanSquaredError,
            new LayerSpec(8, Relu: true), new LayerSpec(5, Relu: true, TrainWeight: false, TrainBias: false), new LayerSpec(2, TrainBias: false)),
        new("l3-relu-square-shared-kernels", 8, LossKind.MeanSquaredError,
            new LayerSpec(8, Relu: true), new LayerSpec(8, Relu: true), new LayerSpec(8)),
        new("mlp-64-32-10-ce", 64, LossKind.SoftmaxCrossEntropy, new LayerSpec(32, Relu: true), new LayerSpec(10)),
    ];

    public static NetSpec Get(string id) => All.Single(n => n.Id == id);

    public static IEnumerable<object[]> Ids => All.Select(n => new object[] { n.Id });
}

/// <summary>A compiled model and a fresh evaluator after init().</summary>
internal sealed class EvalRun
{
    public EvalRun(Model model, int im2colBudgetBytes = Autodiff.DefaultIm2colBudgetBytes)
    {
        // Unshared arena: the tests read every gradient after the step; sharing would reuse that memory.
        Compiled = Pipeline.Compile(model, shareMemory: false, im2colBudgetBytes: im2colBudgetBytes);
        Evaluator = new Evaluator(Compiled.Program);
        Evaluator.Init();
    }

    public CompiledModel Compiled { get; }
    public Evaluator Evaluator { get; }
    public KernelProgram Program => Compiled.Program;

    /// <summary>A parameter (trained in the arena, or frozen in read-only data) or an arena buffer by name, or null.</summary>
    public ProgramBuffer? Find(string name) =>
        Program.Parameters.SingleOrDefault(p => p.Name == name)?.Buffer
        ?? Program.Buffers.SingleOrDefault(b => b.Name == name && b.Storage == BufferStorage.Arena);

    public bool Has(string name) => Find(name) is not null;

    public float[] Read(string name) =>
        Evaluator.Read(Find(name) ?? throw new InvalidOperationException(
            $"the program has no buffer '{name}'; it has: {string.Join(", ", Program.Buffers.Select(b => b.Name))}"));

    public float[] Predict(float[] x)
    {
        var y = new float[Program.OutputSize];
        Evaluator.Predict(x, y);
        return y;
    }

    public float TrainStep(float[] x, float[] t) => Evaluator.TrainStep(x, t);
}

internal static class TestData
{
    public static float[] Uniform(Random rng, int n, float lo, float hi)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        return a;
    }

    /// <summary>Uniform values with |v| in [minAbs, maxAbs] and a random sign.</summary>
    public static float[] AwayFromZero(Random rng, int n, float minAbs, float maxAbs)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
            a[i] = (float)((minAbs + (maxAbs - minAbs) * rng.NextDouble()) * (rng.Next(2) == 0 ? -1 : 1));
        return a;
    }

    public static double[] ToDouble(IReadOnlyList<float> a) => a.Select(v => (double)v).ToArray();
}

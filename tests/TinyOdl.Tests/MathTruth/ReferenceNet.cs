using TinyOdl.Passes;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// A float64 MLP (Linear layers, optional ReLU after each) with hand-written backpropagation and PyTorch SGD,
/// built on <see cref="Float64Reference"/>. Gradients are keyed by the names the compiled program gives its
/// buffers: d_fcK_weight, d_fcK (dL/d pre-activation of layer K = the bias gradient), d_reluK.
/// </summary>
internal sealed class ReferenceNet
{
    public sealed class Layer
    {
        public required string Name { get; init; }
        public required int In { get; init; }
        public required int Out { get; init; }
        public required double[] W { get; init; }
        public double[]? B { get; init; }
        public bool TrainWeight { get; init; } = true;
        public bool TrainBias { get; init; } = true;
        public string? ReluName { get; init; }
        public double[]? VW { get; set; }
        public double[]? VB { get; set; }
    }

    public sealed record Trace(double[][] Inputs, double[][] PreActivations, double[][] Outputs)
    {
        public double[] Prediction => Outputs[^1];
    }

    public ReferenceNet(IReadOnlyList<Layer> layers, LossKind loss)
    {
        Layers = layers;
        Loss = loss;
    }

    public IReadOnlyList<Layer> Layers { get; }
    public LossKind Loss { get; }

    public double LossOf(double[] y, double[] t) =>
        Loss == LossKind.MeanSquaredError ? Float64Reference.Mse(y, t) : Float64Reference.SoftmaxCrossEntropy(y, t);

    public double[] LossGradient(double[] y, double[] t) =>
        Loss == LossKind.MeanSquaredError ? Float64Reference.MseGradient(y, t) : Float64Reference.SoftmaxCrossEntropyGradient(y, t);

    public Trace Forward(double[] x) => ForwardFrom(0, x);

    /// <summary>Runs layers start.. on <paramref name="x"/>, the input of layer <paramref name="start"/>.</summary>
    public Trace ForwardFrom(int start, double[] x)
    {
        int n = Layers.Count - start;
        var ins = new double[n][];
        var pre = new double[n][];
        var outs = new double[n][];
        var h = x;
        for (int k = 0; k < n; k++)
        {
            var l = Layers[start + k];
            ins[k] = h;
            pre[k] = Float64Reference.Linear(l.W, l.B, h, l.Out);
            outs[k] = l.ReluName is null ? pre[k] : Float64Reference.Relu(pre[k]);
            h = outs[k];
        }
        return new Trace(ins, pre, outs);
    }

    public double[] Predict(double[] x) => Forward(x).Prediction;

    public double LossAt(double[] x, double[] t) => LossOf(Predict(x), t);

    /// <summary>The loss as a function of the input of layer <paramref name="k"/> (for input-gradient checks).</summary>
    public double LossFromLayerInput(int k, double[] h, double[] t) => LossOf(ForwardFrom(k, h).Prediction, t);

    /// <summary>The loss as a function of layer <paramref name="k"/>'s pre-activation (ReLU, if any, is applied).</summary>
    public double LossFromPreActivation(int k, double[] z, double[] t)
    {
        var l = Layers[k];
        var h = l.ReluName is null ? z : Float64Reference.Relu(z);
        return k + 1 == Layers.Count ? LossOf(h, t) : LossFromLayerInput(k + 1, h, t);
    }

    /// <summary>Every gradient of the training step, by buffer name, plus the loss.</summary>
    public (double Loss, Dictionary<string, double[]> Grads) Backward(double[] x, double[] t)
    {
        var tr = Forward(x);
        var grads = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var dOut = LossGradient(tr.Prediction, t);
        for (int k = Layers.Count - 1; k >= 0; k--)
        {
            var l = Layers[k];
            if (l.ReluName is not null)
            {
                grads["d_" + l.ReluName] = dOut;
                dOut = Float64Reference.ReluBackward(tr.PreActivations[k], dOut);
            }
            grads["d_" + l.Name] = dOut;                       // dL/dz_k, which is also dL/db_k
            grads["d_" + l.Name + "_weight"] = Float64Reference.LinearWeightGradient(dOut, tr.Inputs[k]);
            grads["d_" + l.Name + "_bias"] = dOut;
            dOut = Float64Reference.LinearInputGradient(l.W, dOut, l.In);
        }
        return (LossOf(tr.Prediction, t), grads);
    }

    /// <summary>One training step; returns the loss before the update.</summary>
    public double Step(double[] x, double[] t, double lr, double momentum, double weightDecay)
    {
        var (loss, g) = Backward(x, t);
        foreach (var l in Layers)
        {
            if (l.TrainWeight)
            {
                if (momentum != 0) l.VW ??= new double[l.W.Length];
                Float64Reference.Sgd(l.W, g["d_" + l.Name + "_weight"], momentum != 0 ? l.VW : null, lr, momentum, weightDecay);
            }
            if (l.B is not null && l.TrainBias)
            {
                if (momentum != 0) l.VB ??= new double[l.B.Length];
                Float64Reference.Sgd(l.B, g["d_" + l.Name + "_bias"], momentum != 0 ? l.VB : null, lr, momentum, weightDecay);
            }
        }
        return loss;
    }

    /// <summary>A parameter by its model name (fcK_weight, fcK_bias); the live array, so callers may perturb it.</summary>
    public double[] Parameter(string name)
    {
        foreach (var l in Layers)
        {
            if (name == l.Name + "_weight") return l.W;
            if (name == l.Name + "_bias") return l.B ?? throw new ArgumentException($"{l.Name} has no bias");
        }
        throw new ArgumentException($"no parameter {name}");
    }

    public IEnumerable<string> ParameterNames() =>
        Layers.SelectMany(l => l.B is null ? new[] { l.Name + "_weight" } : [l.Name + "_weight", l.Name + "_bias"]);

    public bool IsTrainable(string name) =>
        Layers.Any(l => (name == l.Name + "_weight" && l.TrainWeight) || (name == l.Name + "_bias" && l.TrainBias));
}

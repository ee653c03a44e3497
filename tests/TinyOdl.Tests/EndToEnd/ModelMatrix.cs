using TinyOdl.Data;
using TinyOdl.Graph;

namespace TinyOdl.Tests.EndToEnd;

/// <summary>
/// One small model of the end-to-end matrix: how to build it, the synthetic data it trains on, and what the
/// harness does with it (verify mode with traced steps, or whole training epochs).
/// </summary>
public sealed record ModelCase(
    string Name,
    Func<Model> Build,
    int Features,
    int Classes,
    int Samples,
    double TestFraction,
    int Steps,
    int Epochs = 0,
    ulong DataSeed = 11)
{
    public bool IsTraining => Epochs > 0;

    public RunPlan Plan()
    {
        var (train, test) = Dataset.Synthetic(Samples, Features, Classes, DataSeed).Split(TestFraction, DataSeed);
        return IsTraining ? RunPlan.Training(train, test, Epochs) : RunPlan.Verify(train, test, Steps);
    }

    public override string ToString() => Name;
}

/// <summary>
/// The matrix: 1..3 linear layers, with and without bias, ReLU, MSE and softmax cross-entropy, plain SGD,
/// momentum and weight decay, partly and fully frozen layers, odd sizes (7x3, 1x1, 13x11x7), a 2-D input,
/// more traced steps than training samples, and one training-mode run.
/// </summary>
public static class ModelMatrix
{
    public static IReadOnlyList<ModelCase> All { get; } =
    [
        // 1 layer, 7 -> 3, bias, MSE, plain SGD.
        new("lin1_7x3_mse_sgd", () =>
        {
            var b = new ModelBuilder("lin1_7x3_mse_sgd", new Shape(7), seed: 3);
            var y = b.Linear("fc", b.Input, 3);
            return b.MseLoss("loss", y).Build(new SgdOptimizer(0.1f));
        }, Features: 7, Classes: 3, Samples: 20, TestFraction: 0.25, Steps: 6),

        // 1 layer, 1 -> 1, MSE, momentum.
        new("lin1_1x1_mse_momentum", () =>
        {
            var b = new ModelBuilder("lin1_1x1_mse_momentum", new Shape(1), seed: 4);
            var y = b.Linear("fc", b.Input, 1);
            return b.MseLoss("loss", y).Build(new SgdOptimizer(0.05f, Momentum: 0.9f));
        }, Features: 1, Classes: 1, Samples: 12, TestFraction: 0.34, Steps: 7),

        // 1 layer without bias, cross-entropy, weight decay only.
        new("lin1_7x3_nobias_ce_wd", () =>
        {
            var b = new ModelBuilder("lin1_7x3_nobias_ce_wd", new Shape(7), seed: 5);
            var y = b.Linear("fc", b.Input, 3, bias: false);
            return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.1f, WeightDecay: 0.01f));
        }, Features: 7, Classes: 3, Samples: 20, TestFraction: 0.25, Steps: 6),

        // 2 layers with ReLU, cross-entropy, momentum and weight decay.
        new("mlp2_7x5x3_relu_ce_momentum_wd", () =>
        {
            var b = new ModelBuilder("mlp2_7x5x3_relu_ce_momentum_wd", new Shape(7), seed: 6);
            var h = b.Relu("relu1", b.Linear("fc1", b.Input, 5));
            var y = b.Linear("fc2", h, 3);
            return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.05f, Momentum: 0.9f, WeightDecay: 0.001f));
        }, Features: 7, Classes: 3, Samples: 24, TestFraction: 0.25, Steps: 8),

        // 2 layers, first without bias, MSE, momentum without weight decay.
        new("mlp2_5x4x2_nobias_mse_momentum", () =>
        {
            var b = new ModelBuilder("mlp2_5x4x2_nobias_mse_momentum", new Shape(5), seed: 7);
            var h = b.Relu("relu1", b.Linear("fc1", b.Input, 4, bias: false));
            var y = b.Linear("fc2", h, 2);
            return b.MseLoss("loss", y).Build(new SgdOptimizer(0.1f, Momentum: 0.5f));
        }, Features: 5, Classes: 2, Samples: 16, TestFraction: 0.25, Steps: 6),

        // 3 layers, partly frozen: fc1's weight, fc2's bias; fc3 has no bias. CE, momentum and weight decay.
        new("mlp3_partly_frozen_ce", () =>
        {
            var b = new ModelBuilder("mlp3_partly_frozen_ce", new Shape(6), seed: 8);
            var h1 = b.Relu("relu1", b.Linear("fc1", b.Input, 8, trainWeight: false));
            var h2 = b.Relu("relu2", b.Linear("fc2", h1, 5, trainBias: false));
            var y = b.Linear("fc3", h2, 3, bias: false);
            return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.05f, Momentum: 0.9f, WeightDecay: 0.01f));
        }, Features: 6, Classes: 3, Samples: 20, TestFraction: 0.25, Steps: 6),

        // 3 layers: the first entirely frozen, a 3 -> 1 and a 1 x 1 layer, MSE with weight decay and no momentum.
        new("mlp3_frozen_first_1x1_mse_wd", () =>
        {
            var b = new ModelBuilder("mlp3_frozen_first_1x1_mse_wd", new Shape(4), seed: 9);
            var h1 = b.Relu("relu1", b.Linear("fc1", b.Input, 3, trainWeight: false, trainBias: false));
            var h2 = b.Linear("fc2", h1, 1);
            var y = b.Linear("fc3", h2, 1);
            return b.MseLoss("loss", y).Build(new SgdOptimizer(0.02f, WeightDecay: 0.05f));
        }, Features: 4, Classes: 1, Samples: 12, TestFraction: 0.34, Steps: 6),

        // Odd, larger sizes (loops the optimisers unroll and vectorise differently).
        new("mlp2_13x11x7_relu_ce_sgd", () =>
        {
            var b = new ModelBuilder("mlp2_13x11x7_relu_ce_sgd", new Shape(13), seed: 10);
            var h = b.Relu("relu1", b.Linear("fc1", b.Input, 11));
            var y = b.Linear("fc2", h, 7);
            return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.03f));
        }, Features: 13, Classes: 7, Samples: 24, TestFraction: 0.25, Steps: 5),

        // A 2-D input (2x3 = 6 features) into a linear layer.
        new("lin2_input2x3_ce_momentum", () =>
        {
            var b = new ModelBuilder("lin2_input2x3_ce_momentum", new Shape(2, 3), seed: 12);
            var h = b.Relu("relu1", b.Linear("fc1", b.Input, 4));
            var y = b.Linear("fc2", h, 2);
            return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.1f, Momentum: 0.8f));
        }, Features: 6, Classes: 2, Samples: 16, TestFraction: 0.25, Steps: 5),

        // More traced steps (9) than training samples (3): step s trains on sample s mod 3.
        new("mlp2_wraparound_steps_ce", () =>
        {
            var b = new ModelBuilder("mlp2_wraparound_steps_ce", new Shape(3), seed: 13);
            var h = b.Relu("relu1", b.Linear("fc1", b.Input, 4));
            var y = b.Linear("fc2", h, 2);
            return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.2f, Momentum: 0.9f, WeightDecay: 0.001f));
        }, Features: 3, Classes: 2, Samples: 7, TestFraction: 0.5, Steps: 9),

        // Training mode: 3 epochs, loss sums, accuracies, final parameters.
        new("mlp2_training_epochs_ce", () =>
        {
            var b = new ModelBuilder("mlp2_training_epochs_ce", new Shape(5), seed: 14);
            var h = b.Relu("relu1", b.Linear("fc1", b.Input, 6));
            var y = b.Linear("fc2", h, 3);
            return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.05f, Momentum: 0.9f, WeightDecay: 0.0005f));
        }, Features: 5, Classes: 3, Samples: 30, TestFraction: 0.2, Steps: 0, Epochs: 3),
    ];

    public static ModelCase Get(string name) => All.Single(c => c.Name == name);
}

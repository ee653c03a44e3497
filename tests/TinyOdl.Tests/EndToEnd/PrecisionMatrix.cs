using TinyOdl.Graph;
using TinyOdl.Targets;

namespace TinyOdl.Tests.EndToEnd;

/// <summary>
/// A model of the precision matrix. <see cref="Data"/> supplies the synthetic data and the plan (for the models
/// mirrored from <see cref="ModelMatrix"/> it is that matrix's own case, so fp32 must reproduce it exactly);
/// <see cref="Build"/> builds the model for one policy key of <see cref="Policies"/>.
/// </summary>
public sealed record PrecisionCase(string Name, ModelCase Data, Func<string, Model> Build, IReadOnlyList<string> Policies,
    IReadOnlyList<string>? TargetKeys = null)
{
    /// <summary>The boards this model runs on (all of <see cref="PrecisionMatrix.Targets"/> unless restricted).</summary>
    public IReadOnlyList<PrecisionTarget> Targets =>
        TargetKeys is null ? PrecisionMatrix.Targets : PrecisionMatrix.Targets.Where(t => TargetKeys.Contains(t.Key)).ToArray();

    /// <summary>Whether the model names a precision per layer (built as is) rather than one for the whole model.</summary>
    public bool IsPerLayer => Policies.SequenceEqual([PrecisionMatrix.PerLayer]);
    public override string ToString() => Name;
}

/// <summary>A board to run on: which board.json, and the vector length if it is not the board's default.</summary>
public sealed record PrecisionTarget(string Key, string BoardName, int? Vlen)
{
    public Board Load() => Vlen is { } v ? Board.Load(BoardName).WithVlen(v) : Board.Load(BoardName);
    public bool IsVector => BoardName == PrecisionMatrix.ZvfhBoard;
    public override string ToString() => Key;
}

/// <summary>
/// The models, policies and boards of the precision end-to-end matrix.
///
/// Models with one model-wide policy mirror the shapes of <see cref="ModelMatrix"/> (same names, seeds, sizes,
/// losses and optimizers; <see cref="ModelMatrix"/>'s builders cannot take a precision, so they are written again
/// here with <see cref="ModelBuilder.DefaultPrecision"/> set): 7x3 and 13x11x7 (sizes no vector length divides,
/// so every lanes loop ends in a partial strip), 1x1 (a strip of one lane), MSE and softmax cross-entropy, plain SGD,
/// momentum, weight decay, frozen weights and biases. Two more models name a precision per layer, so values cross
/// between binary32 and binary16 in both directions (conversion kernels and their gradients), and two run into the
/// edges of binary16 (overflow to inf and NaN; subnormal weights) on the vector board.
/// </summary>
public static class PrecisionMatrix
{
    public const string ZfhBoard = "qemu-virt-rv32-zfh";
    public const string ZvfhBoard = "qemu-virt-rv32-zvfh";
    public const string ScalarFp32Board = "qemu-virt-rv32";

    /// <summary>Policy key of the models that set a precision per layer.</summary>
    public const string PerLayer = "per-layer";

    public static readonly string[] UniformPolicies = PrecisionExtensions.Names; // fp32, fp16, fp16-mixed

    public static IReadOnlyList<PrecisionTarget> Targets { get; } =
    [
        new("zfh", ZfhBoard, null),
        new("zvfh128", ZvfhBoard, null), // the board's default VLEN (128; asserted by a test)
        new("zvfh256", ZvfhBoard, 256),
    ];

    public static PrecisionTarget Target(string key) => Targets.Single(t => t.Key == key);

    private static Precision P(string policy) => PrecisionExtensions.Parse(policy, "test policy");

    private static PrecisionCase Uniform(string matrixCase, Func<Precision, Model> build) =>
        new(matrixCase, ModelMatrix.Get(matrixCase), policy => build(P(policy)), UniformPolicies);

    public static IReadOnlyList<PrecisionCase> All { get; } =
    [
        // 7 -> 3 (no VLEN divides 3 or 7), MSE, plain SGD.
        Uniform("lin1_7x3_mse_sgd", p =>
        {
            var b = new ModelBuilder("lin1_7x3_mse_sgd", new Shape(7), seed: 3) { DefaultPrecision = p };
            var y = b.Linear("fc", b.Input, 3);
            return b.MseLoss("loss", y).Build(new SgdOptimizer(0.1f));
        }),

        // 1 -> 1: every lanes loop is a single strip with vl = 1. MSE, momentum.
        Uniform("lin1_1x1_mse_momentum", p =>
        {
            var b = new ModelBuilder("lin1_1x1_mse_momentum", new Shape(1), seed: 4) { DefaultPrecision = p };
            var y = b.Linear("fc", b.Input, 1);
            return b.MseLoss("loss", y).Build(new SgdOptimizer(0.05f, Momentum: 0.9f));
        }),

        // 3 layers, partly frozen (fc1's weight, fc2's bias), fc3 without bias. CE, momentum and weight decay.
        Uniform("mlp3_partly_frozen_ce", p =>
        {
            var b = new ModelBuilder("mlp3_partly_frozen_ce", new Shape(6), seed: 8) { DefaultPrecision = p };
            var h1 = b.Relu("relu1", b.Linear("fc1", b.Input, 8, trainWeight: false));
            var h2 = b.Relu("relu2", b.Linear("fc2", h1, 5, trainBias: false));
            var y = b.Linear("fc3", h2, 3, bias: false);
            return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.05f, Momentum: 0.9f, WeightDecay: 0.01f));
        }),

        // 13 -> 11 -> 7: larger odd sizes; with 8 (VLEN 128, e16) or 4 (e32) lanes there are full and partial strips.
        Uniform("mlp2_13x11x7_relu_ce_sgd", p =>
        {
            var b = new ModelBuilder("mlp2_13x11x7_relu_ce_sgd", new Shape(13), seed: 10) { DefaultPrecision = p };
            var h = b.Relu("relu1", b.Linear("fc1", b.Input, 11));
            var y = b.Linear("fc2", h, 7);
            return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.03f));
        }),

        // fp32 -> fp16 -> fp16-mixed: the input stays binary32 for fc1, relu1's output is rounded to binary16 for
        // fc2 (and fc2's input gradient widened back for relu1/fc1); fc3 accumulates in binary32 from binary16.
        // CE on a binary16 prediction; momentum and weight decay in each layer's accumulation type.
        new("mixed_fp32_fp16_fp16mixed",
            new ModelCase("mixed_fp32_fp16_fp16mixed", () => throw new NotSupportedException(),
                Features: 7, Classes: 3, Samples: 24, TestFraction: 0.25, Steps: 8, DataSeed: 21),
            _ =>
            {
                var b = new ModelBuilder("mixed_fp32_fp16_fp16mixed", new Shape(7), seed: 31);
                var h1 = b.Relu("relu1", b.Linear("fc1", b.Input, 5, precision: Precision.Fp32), precision: Precision.Fp32);
                var h2 = b.Relu("relu2", b.Linear("fc2", h1, 6, precision: Precision.Fp16), precision: Precision.Fp16);
                var y = b.Linear("fc3", h2, 3, precision: Precision.Fp16Mixed);
                return b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.05f, Momentum: 0.9f, WeightDecay: 0.001f));
            },
            [PerLayer]),

        // The other direction: fp16-mixed -> fp16 (frozen weight) -> fp32. fc3 reads binary16 activations widened
        // to binary32; its input gradient is rounded to binary16 for fc2. MSE on a binary32 prediction, weight decay.
        new("mixed_fp16mixed_fp16_fp32",
            new ModelCase("mixed_fp16mixed_fp16_fp32", () => throw new NotSupportedException(),
                Features: 5, Classes: 2, Samples: 16, TestFraction: 0.25, Steps: 6, DataSeed: 22),
            _ =>
            {
                var b = new ModelBuilder("mixed_fp16mixed_fp16_fp32", new Shape(5), seed: 32);
                var h1 = b.Relu("relu1", b.Linear("fc1", b.Input, 9, precision: Precision.Fp16Mixed), precision: Precision.Fp16Mixed);
                var h2 = b.Linear("fc2", h1, 3, trainWeight: false, precision: Precision.Fp16);
                var y = b.Linear("fc3", h2, 2, precision: Precision.Fp32);
                return b.MseLoss("loss", y).Build(new SgdOptimizer(0.1f, WeightDecay: 0.01f));
            },
            [PerLayer]),

        // CNN: im2col convolutions (3x3 padded; a depthwise stride-2 one with uneven padding), batch norm with a frozen
        // shift, max pooling over a size the stride does not divide, average pooling with count_include_pad over
        // padding, a view, and a linear head. CE, momentum.
        Cnn("cnn_im2col_pool_bn", new Shape(2, 7, 6), seed: 41, dataSeed: 24, (b, x) =>
        {
            var c1 = b.Relu("relu1", b.BatchNorm("bn1", b.Conv2d("conv1", x, 5, new Window2d(7, 6, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1)),
                trainShift: false, mean: [0.1f, -0.2f, 0f, 0.3f, 0.05f], variance: [1.5f, 0.5f, 1f, 2f, 0.25f]));
            var p1 = b.Pool("pool1", c1, PoolKind.Max, new Window2d(7, 6, 2, 2, 2, 2));
            var dw = b.Conv2d("dw", p1, 5, new Window2d(3, 3, 3, 2, 2, 1, PadTop: 1, PadLeft: 0, PadBottom: 0, PadRight: 1), groups: 5);
            var p2 = b.Pool("pool2", dw, PoolKind.Average, new Window2d(1, 3, 1, 2, 1, 1, PadLeft: 1), countIncludePad: true);
            return b.Linear("fc", b.Flatten("flat", p2), 3);
        }),

        // CNN: direct convolutions (fp32 column matrices exceed the im2col budget), a pointwise and a grouped one, a
        // residual Add broadcasting a [C, 1, 1] global average over the plane, a sigmoid, MSE and plain SGD.
        Cnn("cnn_direct_residual", new Shape(4, 12, 12), seed: 42, dataSeed: 25, (b, x) =>
        {
            var c1 = b.Relu("relu1", b.Conv2d("conv1", x, 8, new Window2d(12, 12, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1)));
            var c2 = b.Conv2d("conv2", c1, 8, new Window2d(12, 12, 3, 3, 2, 2, 1, 1, 1, 1), groups: 2);
            var pw = b.Conv2d("pw", c2, 8, new Window2d(6, 6, 1, 1), bias: false);
            var sum = b.Add("sum", pw, b.GlobalAveragePool("gap", c2));
            var s = b.Sigmoid("sig", b.Pool("pool", sum, PoolKind.Average, new Window2d(6, 6, 3, 3, 3, 3)));
            return b.Linear("fc", s, 2);
        }, mse: true),

        // Binary layers between real ones: zero padding, one padding with stride 2, a grouped one with uneven one
        // padding, a binary linear layer reading 36 signs (two words, the second with 4 used bits), batch norm.
        Cnn("bnn_binary_layers", new Shape(3, 6, 6), seed: 43, dataSeed: 26, (b, x) =>
        {
            var c1 = b.Conv2d("conv1", x, 4, new Window2d(6, 6, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1));
            var b1 = b.BatchNorm("bn1", b.BinaryConv2d("bconv1", c1, 5, new Window2d(6, 6, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), bias: false));
            var b2 = b.BinaryConv2d("bconv2", b1, 6, new Window2d(6, 6, 3, 3, 2, 2, 1, 1, 1, 1), padding: BinaryPadding.One);
            var b3 = b.BinaryConv2d("bconv3", b2, 6, new Window2d(3, 3, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 0, PadRight: 1), groups: 2, padding: BinaryPadding.One);
            var f = b.BinaryLinear("bfc", b.Flatten("flat", b3), 5);
            return b.Linear("fc", f, 3);
        }),

        // PHM layers: a conv with n = 2 (im2col; the rule builds W), a strided one with n = 4 and A frozen (factored by
        // request), a linear one with n = 4 and a bias-free one with n = 2 (the rule factors both).
        Cnn("phm_layers", new Shape(4, 6, 6), seed: 44, dataSeed: 27, (b, x) =>
        {
            var c1 = b.Relu("relu1", b.PhmConv2d("pconv1", x, 8, 2, new Window2d(6, 6, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1)));
            var c2 = b.PhmConv2d("pconv2", c1, 8, 4, new Window2d(6, 6, 3, 3, 2, 2, 1, 1, 1, 1), trainA: false, evaluation: PhmEvaluation.Factored);
            var f = b.Relu("relu2", b.PhmLinear("pfc1", b.Flatten("flat", c2), 12, 4));
            return b.Linear("fc", b.PhmLinear("pfc2", f, 6, 2, bias: false), 3);
        }),

        RangeEdge(Overflow, 300f, 300f, 0f, 0.1f),
        RangeEdge(Subnormal, 3e-5f, 2e-5f, 1e-7f, 0.1f),
    ];

    /// <summary>
    /// Binary16 range edges, on the vector board only (the newest code path; the scalar Zfh instructions are checked
    /// one by one by the QEMU oracle tests): explicit weights make the forward pass overflow binary16 (inf, then NaN
    /// in every tensor: canonical NaNs 0x7e00 / 0x7fc00000 must match), or keep every weight and bias subnormal.
    /// </summary>
    private static PrecisionCase RangeEdge(string name, float w1, float w2, float bias, float lr) =>
        new(name,
            new ModelCase(name, () => throw new NotSupportedException(), Features: 7, Classes: 3, Samples: 12, TestFraction: 0.34, Steps: 4, DataSeed: 23),
            policy =>
            {
                var b = new ModelBuilder(name, new Shape(7), seed: 33) { DefaultPrecision = P(policy) };
                var h = b.Relu("relu1", b.Linear("fc1", b.Input, 5,
                    weight: Enumerable.Range(0, 35).Select(i => w1 * (i % 2 == 0 ? 1 : -1) * (1 + i % 3)).ToArray(),
                    biasValues: Enumerable.Repeat(bias, 5).ToArray()));
                var y = b.Linear("fc2", h, 3,
                    weight: Enumerable.Range(0, 15).Select(i => w2 * (1 + i % 2)).ToArray(),
                    biasValues: Enumerable.Repeat(bias, 3).ToArray());
                return b.MseLoss("loss", y).Build(new SgdOptimizer(lr, Momentum: 0.9f));
            },
            ["fp16", "fp16-mixed"],
            ["zvfh128", "zvfh256"]);

    /// <summary>A convolutional model in every uniform policy on every target; <paramref name="body"/> maps the input to the prediction.</summary>
    private static PrecisionCase Cnn(string name, Shape input, ulong seed, ulong dataSeed, Func<ModelBuilder, Value, Value> body, bool mse = false)
    {
        int classes = mse ? 2 : 3;
        return new(name,
            new ModelCase(name, () => throw new NotSupportedException(), Features: input.Elements, Classes: classes, Samples: 10, TestFraction: 0.3, Steps: 3, DataSeed: dataSeed),
            policy =>
            {
                var b = new ModelBuilder(name, input, seed) { DefaultPrecision = P(policy) };
                var y = body(b, b.Input);
                return (mse ? b.MseLoss("loss", y) : b.SoftmaxCrossEntropy("loss", y))
                    .Build(mse ? new SgdOptimizer(0.05f) : new SgdOptimizer(0.02f, Momentum: 0.9f));
            },
            UniformPolicies);
    }

    /// <summary>Range-edge models (<see cref="RangeEdge"/>); part of <see cref="All"/>.</summary>
    public const string Overflow = "edge_fp16_overflow_nan";
    public const string Subnormal = "edge_fp16_subnormal";

    public static PrecisionCase Get(string name) => All.Single(c => c.Name == name);
}

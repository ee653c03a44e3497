namespace TinyOdl.Graph;

/// <summary>
/// The C# way to describe a model. Checks every name and shape as nodes are added, so a model that
/// builds is well formed. Errors are <see cref="TinyOdlException"/>s naming the node.
/// </summary>
/// <example>
/// var b = new ModelBuilder("mlp", inputShape: new Shape(64), seed: 1);
/// var h = b.Relu("relu1", b.Linear("fc1", b.Input, 32));
/// var y = b.Linear("fc2", h, 10);
/// var model = b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.05f));
/// </example>
public sealed class ModelBuilder
{
    private readonly string _name;
    private readonly SplitMix64 _rng;
    private readonly List<Node> _nodes = [];
    private readonly List<Parameter> _parameters = [];
    private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);
    private LossNode? _loss;
    private Value? _target;

    public ModelBuilder(string name, Shape inputShape, ulong seed = 1, string inputName = "input")
    {
        if (!IsIdentifier(name)) throw TinyOdlException.At("model name", $"'{name}' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)");
        _name = name;
        _rng = new SplitMix64(seed);
        Input = Register(new Value(inputName, inputShape, DataType.Float32, ValueKind.Input), inputName);
    }

    public Value Input { get; }

    /// <summary>Precision of nodes added from now on that do not name their own.</summary>
    public Precision DefaultPrecision { get; set; } = Precision.Fp32;

    /// <summary>Looks up a value (a node's output or the input) by name.</summary>
    public Value this[string name] =>
        _values.TryGetValue(name, out var v) ? v : throw TinyOdlException.At($"value '{name}'", "no node or input of that name");

    /// <summary>
    /// Fully connected layer. Initial weights, unless given, are PyTorch's default: U(-1/sqrt(in), 1/sqrt(in))
    /// for weight and bias, drawn from the builder's seeded generator.
    /// </summary>
    public Value Linear(string name, Value input, int outFeatures, bool bias = true,
        bool trainWeight = true, bool trainBias = true, float[]? weight = null, float[]? biasValues = null,
        Precision? precision = null)
    {
        CheckNewNode(name);
        var prec = precision ?? DefaultPrecision;
        var storage = prec.Storage();
        if (outFeatures <= 0) throw TinyOdlException.At($"node '{name}'", $"out_features must be positive, got {outFeatures}");
        int inFeatures = input.Elements;
        float bound = 1f / MathF.Sqrt(inFeatures);
        var w = AddParameter($"{name}_weight", new Shape(outFeatures, inFeatures), weight, bound, trainWeight, name, storage);
        Parameter? b = bias ? AddParameter($"{name}_bias", new Shape(outFeatures), biasValues, bound, trainBias, name, storage) : null;
        var y = NewActivation(name, new Shape(outFeatures), storage);
        _nodes.Add(new LinearNode(name, input, w, b, y) { Precision = prec });
        return y;
    }

    /// <summary>
    /// 2-D convolution over a [C, H, W] input. Initial values, unless given, are PyTorch's default:
    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in/groups * kh * kw, for weight and bias.
    /// </summary>
    public Value Conv2d(string name, Value input, int outChannels, Window2d window, int groups = 1, bool bias = true,
        bool trainWeight = true, bool trainBias = true, float[]? weight = null, float[]? biasValues = null, Precision? precision = null)
    {
        CheckNewNode(name);
        var where = $"node '{name}'";
        if (input.Shape.Rank != 3) throw TinyOdlException.At(where, $"shape mismatch: conv2d needs a [channels, height, width] input, but '{input.Name}' is {input.Shape}");
        int inChannels = input.Shape[0];
        if (window.Height != input.Shape[1] || window.Width != input.Shape[2])
            throw new ArgumentException($"window {window.Height}x{window.Width} does not match the input {input.Shape}");
        if (outChannels <= 0) throw TinyOdlException.At(where, $"out_channels must be positive, got {outChannels}");
        if (window.Problem() is { } problem) throw TinyOdlException.At(where, problem);
        if (groups <= 0) throw TinyOdlException.At(where, $"groups must be positive, got {groups}");
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw TinyOdlException.At(where, $"groups {groups} must divide both in_channels {inChannels} and out_channels {outChannels}");
        var prec = precision ?? DefaultPrecision;
        var storage = prec.Storage();
        int fanIn = inChannels / groups * window.KernelArea;
        float bound = 1f / MathF.Sqrt(fanIn);
        var w = AddParameter($"{name}_weight", new Shape(outChannels, inChannels / groups, window.KernelH, window.KernelW), weight, bound, trainWeight, name, storage);
        Parameter? b = bias ? AddParameter($"{name}_bias", new Shape(outChannels), biasValues, bound, trainBias, name, storage) : null;
        var y = NewActivation(name, new Shape(outChannels, window.OutHeight, window.OutWidth), storage);
        _nodes.Add(new Conv2dNode(name, input, w, b, y, window, groups) { Precision = prec });
        return y;
    }

    /// <summary>
    /// Binary 2-D convolution (XNOR-popcount, docs/BINARY.md) over a [C, H, W] input; latent weights initialized as
    /// <see cref="Conv2d"/>'s, which lie inside [-1, 1]. The output and the latent weights are in the layer's
    /// precision; the packed signs are 32-bit words.
    /// </summary>
    public Value BinaryConv2d(string name, Value input, int outChannels, Window2d window, int groups = 1, bool bias = true,
        BinaryPadding padding = BinaryPadding.Zero, bool trainWeight = true, bool trainBias = true, float[]? weight = null, float[]? biasValues = null,
        Precision? precision = null, MstOption? mst = null, BopOption? bop = null)
    {
        CheckMst(name, mst);
        var y = Conv2d(name, input, outChannels, window, groups, bias, trainWeight, trainBias, weight, biasValues, precision);
        var conv = (Conv2dNode)_nodes[^1];
        CheckBop(name, bop, trainWeight, conv.Precision);
        CheckBinaryTaps(name, "binary_conv2d", ConvGeometry.Of(conv).Taps, conv.Precision);
        _nodes[^1] = new BinaryConv2dNode(name, input, conv.Weight, conv.Bias, y, window, groups, padding) { Precision = conv.Precision, Mst = mst, Bop = bop };
        return y;
    }

    /// <summary>Binary fully connected layer (XNOR-popcount); latent weights initialized as <see cref="Linear"/>'s.</summary>
    public Value BinaryLinear(string name, Value input, int outFeatures, bool bias = true, bool trainWeight = true, bool trainBias = true,
        float[]? weight = null, float[]? biasValues = null, Precision? precision = null, MstOption? mst = null, BopOption? bop = null)
    {
        CheckMst(name, mst);
        var y = Linear(name, input, outFeatures, bias, trainWeight, trainBias, weight, biasValues, precision);
        var linear = (LinearNode)_nodes[^1];
        CheckBop(name, bop, trainWeight, linear.Precision);
        CheckBinaryTaps(name, "binary_linear", linear.InFeatures, linear.Precision);
        _nodes[^1] = new BinaryLinearNode(name, input, linear.Weight, linear.Bias, y) { Precision = linear.Precision, Mst = mst, Bop = bop };
        return y;
    }

    /// <summary>
    /// PHM fully connected layer (docs/PHM.md): W = sum_i A_i (x) F_i with n x n matrices A_i and (out / n) x (in / n)
    /// matrices F_i. Initial values, unless given, follow the reference implementation: Xavier-uniform on the stacked
    /// tensors (A: U(+-sqrt(3) / n); F: U(+-sqrt(6 / (Q (P + n))))), bias U(+-1 / sqrt(in)).
    /// </summary>
    public Value PhmLinear(string name, Value input, int outFeatures, int n, bool bias = true, bool trainA = true, bool trainF = true, bool trainBias = true,
        float[]? a = null, float[]? f = null, float[]? biasValues = null, Precision? precision = null, PhmEvaluation evaluation = PhmEvaluation.Auto)
    {
        CheckNewNode(name);
        if (outFeatures <= 0) throw TinyOdlException.At($"node '{name}'", $"out_features must be positive, got {outFeatures}");
        var (prec, storage) = PhmPrecision(precision);
        int inFeatures = input.Elements;
        CheckPhm(name, n, inFeatures, outFeatures, "in_features", "out_features");
        var (pa, pf) = PhmParameters(name, n, outFeatures / n, inFeatures / n, 1, a, f, trainA, trainF, storage);
        Parameter? b = bias ? AddParameter($"{name}_bias", new Shape(outFeatures), biasValues, 1f / MathF.Sqrt(inFeatures), trainBias, name, storage) : null;
        var y = NewActivation(name, new Shape(outFeatures), storage);
        _nodes.Add(new PhmLinearNode(name, input, pa, pf, b, y, n) { Precision = prec, Evaluation = evaluation });
        return y;
    }

    /// <summary>PHM 2-D convolution over a [C, H, W] input (docs/PHM.md); F initialized U(+-sqrt(6 / (Q kh kw (P + n)))).</summary>
    public Value PhmConv2d(string name, Value input, int outChannels, int n, Window2d window, bool bias = true, bool trainA = true, bool trainF = true,
        bool trainBias = true, float[]? a = null, float[]? f = null, float[]? biasValues = null, Precision? precision = null,
        PhmEvaluation evaluation = PhmEvaluation.Auto)
    {
        CheckNewNode(name);
        var where = $"node '{name}'";
        if (input.Shape.Rank != 3) throw TinyOdlException.At(where, $"shape mismatch: phm_conv2d needs a [channels, height, width] input, but '{input.Name}' is {input.Shape}");
        if (window.Height != input.Shape[1] || window.Width != input.Shape[2])
            throw new ArgumentException($"window {window.Height}x{window.Width} does not match the input {input.Shape}");
        if (outChannels <= 0) throw TinyOdlException.At(where, $"out_channels must be positive, got {outChannels}");
        if (window.Problem() is { } problem) throw TinyOdlException.At(where, problem);
        var (prec, storage) = PhmPrecision(precision);
        int inChannels = input.Shape[0];
        CheckPhm(name, n, inChannels, outChannels, "in_channels", "out_channels");
        var (pa, pf) = PhmParameters(name, n, outChannels / n, inChannels / n, window.KernelArea, a, f, trainA, trainF, storage, window);
        Parameter? b = bias ? AddParameter($"{name}_bias", new Shape(outChannels), biasValues, 1f / MathF.Sqrt(inChannels * window.KernelArea), trainBias, name, storage) : null;
        var y = NewActivation(name, new Shape(outChannels, window.OutHeight, window.OutWidth), storage);
        _nodes.Add(new PhmConv2dNode(name, input, pa, pf, b, y, n, window) { Precision = prec, Evaluation = evaluation });
        return y;
    }

    private (Precision, DataType) PhmPrecision(Precision? precision)
    {
        var prec = precision ?? DefaultPrecision;
        return (prec, prec.Storage());
    }

    private static void CheckPhm(string name, int n, int inCount, int outCount, string inName, string outName)
    {
        if (n < 1) throw TinyOdlException.At($"node '{name}'", $"n must be at least 1, got {n}");
        if (inCount % n != 0 || outCount % n != 0)
            throw TinyOdlException.At($"node '{name}'", $"{inName} {inCount} and {outName} {outCount} must both be divisible by n = {n}");
    }

    /// <summary>A [n, n, n] and F [n, P, Q (, kh, kw)], Xavier-uniform on the stacked tensors as the reference does.</summary>
    private (Parameter A, Parameter F) PhmParameters(string name, int n, int p, int q, int kernelArea, float[]? a, float[]? f, bool trainA, bool trainF,
        DataType storage, Window2d? window = null)
    {
        var pa = AddParameter($"{name}_a", new Shape(n, n, n), a, MathF.Sqrt(3f) / n, trainA, name, storage);
        var fShape = window is null ? new Shape(n, p, q) : new Shape(n, p, q, window.KernelH, window.KernelW);
        var pf = AddParameter($"{name}_f", fShape, f, MathF.Sqrt(6f / (q * kernelArea * (p + n))), trainF, name, storage);
        return (pa, pf);
    }

    /// <summary>
    /// Bop needs a threshold &gt;= 0, an adaptivity in (0, 1] (1: m is the last gradient), weights to train, and binary32
    /// accumulation: its moving average moves by adaptivity (1e-4) relative steps, below binary16's resolution (~1e-3).
    /// </summary>
    private static void CheckBop(string name, BopOption? bop, bool trainWeight, Precision precision)
    {
        if (bop is null) return;
        if (!(bop.Threshold >= 0f && float.IsFinite(bop.Threshold)))
            throw TinyOdlException.At($"node '{name}'", $"bop threshold must be a finite number >= 0, got {bop.Threshold}");
        if (!(bop.Adaptivity > 0f && bop.Adaptivity <= 1f))
            throw TinyOdlException.At($"node '{name}'", $"bop adaptivity must be in (0, 1], got {bop.Adaptivity}");
        if (!trainWeight) throw TinyOdlException.At($"node '{name}'", "bop trains the weights, but they are frozen (trainable weight false)");
        if (precision.Accumulation() != DataType.Float32)
            throw TinyOdlException.At($"node '{name}'", $"bop needs binary32 accumulation (fp32 or fp16-mixed), not {precision.Name()}: its moving average takes steps below binary16's resolution");
    }

    /// <summary>A depth limit of 0 would leave no channel to compute from the root.</summary>
    private static void CheckMst(string name, MstOption? mst)
    {
        if (mst?.MaxDepth is < 1)
            throw TinyOdlException.At($"node '{name}'", $"mst max_depth must be at least 1 (the root's children), got {mst.MaxDepth}");
        if (mst is not null && !(mst.Regularization >= 0f && float.IsFinite(mst.Regularization)))
            throw TinyOdlException.At($"node '{name}'", $"mst regularization must be a finite number >= 0, got {mst.Regularization}");
    }

    /// <summary>
    /// A binary layer's integer dot product (-taps .. taps) must convert exactly to the accumulation type: binary16
    /// holds every integer up to 2048, so fp16 accumulation limits the taps; fp16-mixed and fp32 do not (2^24).
    /// </summary>
    private static void CheckBinaryTaps(string name, string op, int taps, Precision precision)
    {
        const int ExactInHalf = 2048;
        if (precision.Accumulation() == DataType.Float16 && taps > ExactInHalf)
            throw TinyOdlException.At($"node '{name}'",
                $"{op} with {taps} taps per output cannot take precision {precision.Name()}: its dot products need exact integers up to {taps}, and fp16 accumulation holds them only up to {ExactInHalf}; use fp16-mixed or fp32");
    }

    /// <summary>Max or average pooling of a [C, H, W] input.</summary>
    public Value Pool(string name, Value input, PoolKind kind, Window2d window, bool countIncludePad = false, Precision? precision = null)
    {
        CheckNewNode(name);
        var where = $"node '{name}'";
        if (input.Shape.Rank != 3) throw TinyOdlException.At(where, $"shape mismatch: pooling needs a [channels, height, width] input, but '{input.Name}' is {input.Shape}");
        if (window.Height != input.Shape[1] || window.Width != input.Shape[2])
            throw new ArgumentException($"window {window.Height}x{window.Width} does not match the input {input.Shape}");
        if (window.Problem() is { } problem) throw TinyOdlException.At(where, problem);
        if (window.PadTop >= window.KernelH || window.PadBottom >= window.KernelH || window.PadLeft >= window.KernelW || window.PadRight >= window.KernelW)
            throw TinyOdlException.At(where, $"padding {window.PadsText} must be smaller than the kernel {window.KernelH}x{window.KernelW} (a window could hold only padding)");
        var prec = precision ?? DefaultPrecision;
        var y = NewActivation(name, new Shape(input.Shape[0], window.OutHeight, window.OutWidth), prec.Storage());
        _nodes.Add(new PoolNode(name, input, y, kind, window, countIncludePad) { Precision = prec });
        return y;
    }

    /// <summary>Mean over each channel's whole [H, W] plane: [C, H, W] -> [C, 1, 1].</summary>
    public Value GlobalAveragePool(string name, Value input, Precision? precision = null)
    {
        CheckNewNode(name);
        if (input.Shape.Rank != 3) throw TinyOdlException.At($"node '{name}'", $"shape mismatch: global average pooling needs a [channels, height, width] input, but '{input.Name}' is {input.Shape}");
        var prec = precision ?? DefaultPrecision;
        var window = new Window2d(input.Shape[1], input.Shape[2], input.Shape[1], input.Shape[2]);
        var y = NewActivation(name, new Shape(input.Shape[0], 1, 1), prec.Storage());
        _nodes.Add(new PoolNode(name, input, y, PoolKind.Average, window, CountIncludePad: true, Global: true) { Precision = prec });
        return y;
    }

    /// <summary>
    /// Batch normalization with frozen statistics (mean, var; default 0 and 1) and a per-channel scale and shift
    /// (default 1 and 0), over axis 0 of the input. inv_std = 1 / sqrt(var + eps) is computed here in float64.
    /// </summary>
    public Value BatchNorm(string name, Value input, float epsilon = 1e-5f, float[]? scale = null, float[]? shift = null,
        float[]? mean = null, float[]? variance = null, bool trainScale = true, bool trainShift = true, Precision? precision = null)
    {
        CheckNewNode(name);
        var where = $"node '{name}'";
        if (input.Shape.Rank < 2) throw TinyOdlException.At(where, $"shape mismatch: batch_norm needs a [channels, ...] input, but '{input.Name}' is {input.Shape}");
        if (!(epsilon >= 0f) || !float.IsFinite(epsilon)) throw TinyOdlException.At(where, $"epsilon must be a finite number >= 0, got {epsilon}");
        int c = input.Shape[0];
        var variances = variance ?? Enumerable.Repeat(1f, c).ToArray();
        if (variances.Length != c) throw TinyOdlException.At(where, $"var has {variances.Length} values, expected {c}");
        var invStd = new float[c];
        for (int i = 0; i < c; i++)
        {
            double v = (double)variances[i] + epsilon;
            if (!(v > 0)) throw TinyOdlException.At(where, $"var[{i}] + epsilon must be positive, got {v}");
            invStd[i] = (float)(1.0 / Math.Sqrt(v));
        }
        var prec = precision ?? DefaultPrecision;
        var storage = prec.Storage();
        var shape = new Shape(c);
        var g = AddParameter($"{name}_weight", shape, scale ?? Enumerable.Repeat(1f, c).ToArray(), 0f, trainScale, name, storage);
        var b = AddParameter($"{name}_bias", shape, shift ?? new float[c], 0f, trainShift, name, storage);
        var m = AddParameter($"{name}_mean", shape, mean ?? new float[c], 0f, false, name, storage);
        var s = AddParameter($"{name}_inv_std", shape, invStd, 0f, false, name, storage);
        var y = NewActivation(name, input.Shape, storage);
        _nodes.Add(new BatchNormNode(name, input, g, b, m, s, y) { Precision = prec });
        return y;
    }

    /// <summary>The input's elements under a new shape of the same size (Flatten: [n]).</summary>
    public Value Reshape(string name, Value input, Shape shape, Precision? precision = null)
    {
        CheckNewNode(name);
        if (shape.Elements != input.Elements)
            throw TinyOdlException.At($"node '{name}'", $"shape mismatch: cannot reshape '{input.Name}' {input.Shape} ({input.Elements} elements) to {shape} ({shape.Elements} elements)");
        // A view keeps its input's storage type; it has no kernels, so its precision is only the model's setting.
        var y = NewActivation(name, shape, input.Type);
        _nodes.Add(new ReshapeNode(name, input, y) { Precision = precision ?? DefaultPrecision });
        return y;
    }

    public Value Flatten(string name, Value input) => Reshape(name, input, new Shape(input.Elements));

    public Value Relu(string name, Value input, Precision? precision = null) =>
        ElementWise(name, input, precision, y => new ReluNode(name, input, y));

    public Value Sigmoid(string name, Value input, Precision? precision = null) =>
        ElementWise(name, input, precision, y => new SigmoidNode(name, input, y));

    /// <summary>Adds a node whose output has its input's shape.</summary>
    private Value ElementWise(string name, Value input, Precision? precision, Func<Value, Node> make)
    {
        CheckNewNode(name);
        var prec = precision ?? DefaultPrecision;
        var y = NewActivation(name, input.Shape, prec.Storage());
        _nodes.Add(make(y) with { Precision = prec });
        return y;
    }

    public Value LeakyRelu(string name, Value input, float slope = 0.01f, Precision? precision = null)
    {
        if (!float.IsFinite(slope)) throw TinyOdlException.At($"node '{name}'", $"negative_slope must be a finite number, got {slope}");
        return ElementWise(name, input, precision, y => new LeakyReluNode(name, input, y, slope));
    }

    /// <summary>
    /// Element-wise sum (a residual connection), with ONNX / NumPy broadcasting: shapes align at the last dimension, and
    /// each pair of dimensions must be equal or one of them 1 (e.g. [16, 8, 8] + [16, 1, 1]).
    /// </summary>
    public Value Add(string name, Value a, Value b, Precision? precision = null)
    {
        CheckNewNode(name);
        var shape = Broadcast(a.Shape, b.Shape)
            ?? throw TinyOdlException.At($"node '{name}'", $"shape mismatch: '{a.Name}' is {a.Shape} but '{b.Name}' is {b.Shape}, which do not broadcast (aligned at the last dimension, each pair of dimensions must be equal or 1)");
        var prec = precision ?? DefaultPrecision;
        var y = NewActivation(name, shape, prec.Storage());
        _nodes.Add(new AddNode(name, a, b, y) { Precision = prec });
        return y;
    }

    /// <summary>The broadcast shape of a and b, or null when they do not broadcast.</summary>
    public static Shape? Broadcast(Shape a, Shape b)
    {
        int rank = Math.Max(a.Rank, b.Rank);
        var dims = new int[rank];
        for (int i = 1; i <= rank; i++)
        {
            int da = i <= a.Rank ? a[a.Rank - i] : 1, db = i <= b.Rank ? b[b.Rank - i] : 1;
            if (da != db && da != 1 && db != 1) return null;
            dims[rank - i] = Math.Max(da, db);
        }
        return new Shape(dims);
    }

    public ModelBuilder MseLoss(string name, Value prediction) =>
        SetLoss(name, prediction, (t, l) => new MseLossNode(name, prediction, t, l));

    public ModelBuilder SoftmaxCrossEntropy(string name, Value prediction) =>
        SetLoss(name, prediction, (t, l) => new SoftmaxCrossEntropyLossNode(name, prediction, t, l));

    public Model Build(SgdOptimizer optimizer)
    {
        if (_loss is null || _target is null) throw TinyOdlException.At($"model '{_name}'", "no loss defined");
        if (!(optimizer.LearningRate > 0f) || !float.IsFinite(optimizer.LearningRate))
            throw TinyOdlException.At("optimizer.learning_rate", $"must be a positive number, got {optimizer.LearningRate}");
        if (!(optimizer.Momentum >= 0f && optimizer.Momentum < 1f))
            throw TinyOdlException.At("optimizer.momentum", $"must be in [0, 1), got {optimizer.Momentum}");
        if (!(optimizer.WeightDecay >= 0f) || !float.IsFinite(optimizer.WeightDecay))
            throw TinyOdlException.At("optimizer.weight_decay", $"must be >= 0, got {optimizer.WeightDecay}");
        if (!(optimizer.LossScale >= 1f && optimizer.LossScale <= 65536f) || !float.IsPow2(optimizer.LossScale))
            throw TinyOdlException.At("optimizer.loss_scale", $"must be a power of two from 1 to 65536 (so scaling is exact), got {optimizer.LossScale}");
        return new Model(_name, Input, _target, _parameters.ToArray(), _nodes.ToArray(), _loss, optimizer);
    }

    private ModelBuilder SetLoss(string name, Value prediction, Func<Value, Value, LossNode> make)
    {
        if (_loss is not null) throw TinyOdlException.At($"node '{name}'", $"the model already has a loss ('{_loss.Name}')");
        CheckNewNode(name);
        if (prediction.Kind != ValueKind.Activation)
            throw TinyOdlException.At($"node '{name}'", "the loss needs a node's output as its prediction");
        _target = Register(new Value("target", prediction.Shape, DataType.Float32, ValueKind.Target), "target");
        var loss = Register(new Value(name, new Shape(1), DataType.Float32, ValueKind.Loss), name);
        _loss = make(_target, loss);
        return this;
    }

    private Parameter AddParameter(string name, Shape shape, float[]? values, float bound, bool trainable, string node, DataType storage)
    {
        if (values is not null && values.Length != shape.Elements)
            throw TinyOdlException.At($"node '{node}'", $"{name} has {values.Length} initial values, expected {shape.Elements} for shape {shape}");
        // The same draws for every precision, so fp16 models start from the fp32 model's weights, rounded.
        values ??= Enumerable.Range(0, shape.Elements).Select(_ => _rng.NextSymmetric(bound)).ToArray();
        if (storage == DataType.Float16)
            values = values.Select(RoundToHalf).ToArray();
        var p = new Parameter(Register(new Value(name, shape, storage, ValueKind.Parameter), name), values, trainable);
        _parameters.Add(p);
        return p;
    }

    private Value NewActivation(string name, Shape shape, DataType storage) =>
        Register(new Value(name, shape, storage, ValueKind.Activation), name);

    private Value Register(Value v, string name)
    {
        if (!_values.TryAdd(name, v)) throw TinyOdlException.At($"value '{name}'", "name is used twice");
        return v;
    }

    private void CheckNewNode(string name)
    {
        if (!IsIdentifier(name)) throw TinyOdlException.At($"node '{name}'", "name must be an identifier ([A-Za-z_][A-Za-z0-9_]*)");
        if (_loss is not null) throw TinyOdlException.At($"node '{name}'", "nodes cannot follow the loss");
        if (_values.ContainsKey(name)) throw TinyOdlException.At($"node '{name}'", "name is used twice");
    }

    /// <summary>The binary16 value nearest to v (ties to even), as the float equal to it.</summary>
    internal static float RoundToHalf(float v) =>
        BitConverter.UInt32BitsToSingle(Numerics.Binary16.ToSingle(Numerics.Binary16.FromSingle(BitConverter.SingleToUInt32Bits(v))));

    internal static bool IsIdentifier(string s) =>
        s.Length > 0 && (char.IsAsciiLetter(s[0]) || s[0] == '_') && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}

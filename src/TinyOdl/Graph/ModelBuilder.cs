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

    public Value Relu(string name, Value input, Precision? precision = null)
    {
        CheckNewNode(name);
        var prec = precision ?? DefaultPrecision;
        var y = NewActivation(name, input.Shape, prec.Storage());
        _nodes.Add(new ReluNode(name, input, y) { Precision = prec });
        return y;
    }

    public Value LeakyRelu(string name, Value input, float slope = 0.01f, Precision? precision = null)
    {
        CheckNewNode(name);
        if (!float.IsFinite(slope)) throw TinyOdlException.At($"node '{name}'", $"negative_slope must be a finite number, got {slope}");
        var prec = precision ?? DefaultPrecision;
        var y = NewActivation(name, input.Shape, prec.Storage());
        _nodes.Add(new LeakyReluNode(name, input, y, slope) { Precision = prec });
        return y;
    }

    /// <summary>Element-wise sum of two values of the same shape (a residual connection).</summary>
    public Value Add(string name, Value a, Value b, Precision? precision = null)
    {
        CheckNewNode(name);
        if (!a.Shape.Equals(b.Shape))
            throw TinyOdlException.At($"node '{name}'", $"shape mismatch: '{a.Name}' is {a.Shape} but '{b.Name}' is {b.Shape}");
        var prec = precision ?? DefaultPrecision;
        var y = NewActivation(name, a.Shape, prec.Storage());
        _nodes.Add(new AddNode(name, a, b, y) { Precision = prec });
        return y;
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

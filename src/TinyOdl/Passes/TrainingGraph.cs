using TinyOdl.Graph;

namespace TinyOdl.Passes;

/// <summary>What a tensor of the training step holds; the memory report groups by it.</summary>
public enum TensorRole
{
    Input,
    Target,
    Parameter,
    /// <summary>A parameter no optimizer updates: read-only, kept with the program image (flash on an MCU), not in the arena.</summary>
    FrozenParameter,
    Activation,
    Loss,
    /// <summary>Gradient of the loss with respect to an activation (or the prediction).</summary>
    ActivationGradient,
    /// <summary>Gradient of the loss with respect to a parameter.</summary>
    ParameterGradient,
    /// <summary>Optimizer state (SGD momentum buffer).</summary>
    OptimizerState,
    /// <summary>A layer's own state kept across steps (a binary layer's MST: the tree and the bits it was built for).</summary>
    LayerState,
    /// <summary>Working memory of one op (e.g. the softmax's exponentials).</summary>
    Scratch,
}

/// <summary>A tensor of the training step. Inputs and targets are supplied by the caller; all others live in the arena.</summary>
public sealed class TrainingTensor(string name, Shape shape, TensorRole role, DataType type)
{
    public string Name { get; } = name;
    public Shape Shape { get; } = shape;
    public TensorRole Role { get; } = role;
    /// <summary>Storage type.</summary>
    public DataType Type { get; } = type;
    public int Elements => Shape.Elements;
    public long Bytes => (long)Elements * Type.SizeInBytes();
    public bool IsExternal => Role is TensorRole.Input or TensorRole.Target;
    /// <summary>Whether the tensor has an arena slot (everything but the caller's buffers and frozen parameters).</summary>
    public bool InArena => !IsExternal && Role != TensorRole.FrozenParameter;
    public override string ToString() => $"%{Name}: {Type.ShortName()}{Shape}";
}

/// <summary>The phase of the training step an op belongs to; predict() runs only <see cref="Forward"/>.</summary>
public enum Phase { Forward, Loss, Backward, Update }

/// <summary>An operation of the training step. Each op type has exactly one lowering to kernel IR.</summary>
public abstract record TrainingOp(string Name, Phase Phase)
{
    public abstract IEnumerable<TrainingTensor> Reads { get; }
    public abstract IEnumerable<TrainingTensor> Writes { get; }

    /// <summary>
    /// Element i of each output depends only on element i of each same-sized input (plus constants), and every
    /// backend reads it before writing: an output may take the memory of an input that is not needed afterwards
    /// (in-place ReLU, Add, batch norm; <see cref="MemoryPlan"/>).
    /// </summary>
    public virtual bool IsElementwise => false;
}

public sealed record LinearForward(string Name, TrainingTensor X, TrainingTensor W, TrainingTensor? B, TrainingTensor Y, Precision Precision) : TrainingOp(Name, Phase.Forward)
{
    public override IEnumerable<TrainingTensor> Reads => B is null ? [X, W] : [X, W, B];
    public override IEnumerable<TrainingTensor> Writes => [Y];
}

/// <summary>dX = W^T dY.</summary>
public sealed record LinearInputGradient(string Name, TrainingTensor DY, TrainingTensor W, TrainingTensor DX, Precision Precision) : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [DY, W];
    public override IEnumerable<TrainingTensor> Writes => [DX];
}

/// <summary>dW = dY X^T (batch 1: an outer product).</summary>
public sealed record LinearWeightGradient(string Name, TrainingTensor DY, TrainingTensor X, TrainingTensor DW, Precision Precision) : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [DY, X];
    public override IEnumerable<TrainingTensor> Writes => [DW];
}

/// <summary>y = x &gt; 0 ? x : slope * x (slope 0: ReLU).</summary>
public sealed record ReluForward(string Name, TrainingTensor X, TrainingTensor Y, float Slope = 0f) : TrainingOp(Name, Phase.Forward)
{
    public override bool IsElementwise => true;
    public override IEnumerable<TrainingTensor> Reads => [X];
    public override IEnumerable<TrainingTensor> Writes => [Y];
}

/// <summary>
/// dX = dY where X &gt; 0, else slope * dY (0 for ReLU). <see cref="X"/> may be the forward output instead of its
/// input when the slope is not negative (then y &gt; 0 exactly when x &gt; 0, NaN included), so the input need not be kept.
/// </summary>
public sealed record ReluBackward(string Name, TrainingTensor X, TrainingTensor DY, TrainingTensor DX, float Slope = 0f) : TrainingOp(Name, Phase.Backward)
{
    public override bool IsElementwise => true;
    public override IEnumerable<TrainingTensor> Reads => [X, DY];
    public override IEnumerable<TrainingTensor> Writes => [DX];
}

/// <summary>Y = 1 / (1 + exp(-X)).</summary>
public sealed record SigmoidForward(string Name, TrainingTensor X, TrainingTensor Y) : TrainingOp(Name, Phase.Forward)
{
    public override bool IsElementwise => true;
    public override IEnumerable<TrainingTensor> Reads => [X];
    public override IEnumerable<TrainingTensor> Writes => [Y];
}

/// <summary>dX = dY * Y * (1 - Y), from the forward output.</summary>
public sealed record SigmoidBackward(string Name, TrainingTensor Y, TrainingTensor DY, TrainingTensor DX) : TrainingOp(Name, Phase.Backward)
{
    public override bool IsElementwise => true;
    public override IEnumerable<TrainingTensor> Reads => [Y, DY];
    public override IEnumerable<TrainingTensor> Writes => [DX];
}

/// <summary>
/// Y = A + B element-wise, A and B broadcast to Y's shape. The shapes are the model's values' (a tensor may be a
/// reshaped view with another shape).
/// </summary>
public sealed record AddForward(string Name, TrainingTensor A, TrainingTensor B, TrainingTensor Y, Shape AShape, Shape BShape, Shape YShape) : TrainingOp(Name, Phase.Forward)
{
    public override bool IsElementwise => AShape.Equals(YShape) && BShape.Equals(YShape);
    public override IEnumerable<TrainingTensor> Reads => [A, B];
    public override IEnumerable<TrainingTensor> Writes => [Y];
}

/// <summary>DX = DY summed over the dimensions along which <see cref="InShape"/> was broadcast to <see cref="OutShape"/>.</summary>
public sealed record BroadcastReduce(string Name, TrainingTensor DY, TrainingTensor DX, Shape OutShape, Shape InShape) : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [DY];
    public override IEnumerable<TrainingTensor> Writes => [DX];
}

/// <summary>Accumulates a second gradient contribution: Acc += Addend (a value used by several nodes).</summary>
public sealed record GradientAccumulate(string Name, TrainingTensor Acc, TrainingTensor Addend) : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [Acc, Addend];
    public override IEnumerable<TrainingTensor> Writes => [Acc];
}

public enum LossKind { MeanSquaredError, SoftmaxCrossEntropy }

/// <summary>Computes the loss and its gradient with respect to the prediction in one op.</summary>
public sealed record LossWithGradient(string Name, LossKind Kind, TrainingTensor Prediction, TrainingTensor Target, TrainingTensor Loss, TrainingTensor DPrediction, TrainingTensor? Scratch) : TrainingOp(Name, Phase.Loss)
{
    public override IEnumerable<TrainingTensor> Reads => [Prediction, Target];
    public override IEnumerable<TrainingTensor> Writes => Scratch is null ? [Loss, DPrediction] : [Loss, DPrediction, Scratch];
}

/// <summary>Y = X converted to Y's storage type (between layers of different precision, and for the f32 API input).</summary>
public sealed record Cast(string Name, Phase Phase, TrainingTensor X, TrainingTensor Y) : TrainingOp(Name, Phase)
{
    public override IEnumerable<TrainingTensor> Reads => [X];
    public override IEnumerable<TrainingTensor> Writes => [Y];
}

/// <summary>One SGD step for one parameter; <see cref="Velocity"/> exists when momentum is on.</summary>
/// <param name="ClipToUnit">Clip the updated parameter to [-1, 1] (a binary layer's latent weights).</param>
public sealed record SgdUpdate(string Name, TrainingTensor Param, TrainingTensor Grad, TrainingTensor? Velocity, SgdOptimizer Optimizer, Precision Precision,
    bool ClipToUnit = false) : TrainingOp(Name, Phase.Update)
{
    public override IEnumerable<TrainingTensor> Reads => Velocity is null ? [Param, Grad] : [Param, Grad, Velocity];
    public override IEnumerable<TrainingTensor> Writes => Velocity is null ? [Param] : [Param, Velocity];
}

/// <summary>
/// Bop (docs/BINARY.md): m = m + gamma * (g - m); W = -W where sign(W) * m &gt; tau. Momentum is optimizer state in the
/// accumulation type (binary32 also under fp16-mixed).
/// </summary>
public sealed record BopUpdate(string Name, TrainingTensor Param, TrainingTensor Grad, TrainingTensor Momentum, BopOption Option, float LossScale, Precision Precision)
    : TrainingOp(Name, Phase.Update)
{
    public override IEnumerable<TrainingTensor> Reads => [Param, Grad, Momentum];
    public override IEnumerable<TrainingTensor> Writes => [Param, Momentum];
}

/// <summary>
/// The whole training step as a list of ops in execution order (forward, loss, backward, update), produced
/// from a <see cref="Model"/> by <see cref="Autodiff"/>.
/// </summary>
public sealed class TrainingGraph
{
    internal TrainingGraph(Model model, IReadOnlyList<TrainingTensor> tensors, IReadOnlyList<TrainingOp> ops,
        IReadOnlyDictionary<Parameter, TrainingTensor> parameters, TrainingTensor input, TrainingTensor target,
        TrainingTensor prediction, TrainingTensor loss)
    {
        Model = model;
        Tensors = tensors;
        Ops = ops;
        Parameters = parameters;
        Input = input;
        Target = target;
        Prediction = prediction;
        Loss = loss;
    }

    public Model Model { get; }
    public IReadOnlyList<TrainingTensor> Tensors { get; }
    public IReadOnlyList<TrainingOp> Ops { get; }
    public IReadOnlyDictionary<Parameter, TrainingTensor> Parameters { get; }
    public TrainingTensor Input { get; }
    public TrainingTensor Target { get; }
    public TrainingTensor Prediction { get; }
    public TrainingTensor Loss { get; }

    public IEnumerable<TrainingOp> ForwardOps => Ops.Where(o => o.Phase == Phase.Forward);

    /// <summary>A readable listing, one op per line (the training graph's printable form).</summary>
    public override string ToString() =>
        string.Join("\n", Ops.Select(o => $"{o.Phase,-8} {o.GetType().Name} {o.Name}: ({string.Join(", ", o.Reads)}) -> ({string.Join(", ", o.Writes)})"));
}

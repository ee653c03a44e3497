namespace TinyOdl.Graph;

/// <summary>An operation of the model graph. Every node has a unique name and produces one value.</summary>
public abstract record Node(string Name, Value Output)
{
    /// <summary>Storage and accumulation types of this node's kernels, forward and backward.</summary>
    public Precision Precision { get; init; } = Precision.Fp32;

    public abstract IEnumerable<Value> Inputs { get; }
    public abstract string OpName { get; }
}

/// <summary>y = W x + b, with W of shape [out, in] (PyTorch's layout).</summary>
public sealed record LinearNode(string Name, Value Input, Parameter Weight, Parameter? Bias, Value Output) : Node(Name, Output)
{
    public int InFeatures => Input.Elements;
    public int OutFeatures => Output.Elements;
    public override IEnumerable<Value> Inputs => Bias is null ? [Input, Weight.Value] : [Input, Weight.Value, Bias.Value];
    public override string OpName => "linear";
}

/// <summary>y = x &gt; 0 ? x : slope * x (PyTorch's LeakyReLU; slope 0.01 by default).</summary>
public sealed record LeakyReluNode(string Name, Value Input, Value Output, float Slope) : Node(Name, Output)
{
    public override IEnumerable<Value> Inputs => [Input];
    public override string OpName => "leaky_relu";
}

/// <summary>y = a + b, same shapes (a residual connection).</summary>
public sealed record AddNode(string Name, Value A, Value B, Value Output) : Node(Name, Output)
{
    public override IEnumerable<Value> Inputs => [A, B];
    public override string OpName => "add";
}

/// <summary>y = max(x, 0), with ReLU'(0) = 0.</summary>
public sealed record ReluNode(string Name, Value Input, Value Output) : Node(Name, Output)
{
    public override IEnumerable<Value> Inputs => [Input];
    public override string OpName => "relu";
}

/// <summary>Loss nodes consume the prediction and the target and produce the scalar loss.</summary>
public abstract record LossNode(string Name, Value Prediction, Value Target, Value Output) : Node(Name, Output)
{
    public override IEnumerable<Value> Inputs => [Prediction, Target];
}

/// <summary>L = mean((y - t)^2).</summary>
public sealed record MseLossNode(string Name, Value Prediction, Value Target, Value Output)
    : LossNode(Name, Prediction, Target, Output)
{
    public override string OpName => "mse_loss";
}

/// <summary>L = -sum_i t_i log softmax(y)_i; t is a probability vector (one-hot for class labels).</summary>
public sealed record SoftmaxCrossEntropyLossNode(string Name, Value Prediction, Value Target, Value Output)
    : LossNode(Name, Prediction, Target, Output)
{
    public override string OpName => "softmax_cross_entropy";
}

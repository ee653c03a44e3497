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

/// <summary>
/// 2-D convolution (cross-correlation, as PyTorch and ONNX) over a CHW input; W has shape
/// [out, in / groups, kh, kw]. Groups split the channels: groups = in = out is depthwise.
/// </summary>
public sealed record Conv2dNode(string Name, Value Input, Parameter Weight, Parameter? Bias, Value Output, Window2d Window, int Groups) : Node(Name, Output)
{
    public int InChannels => Input.Shape[0];
    public int OutChannels => Output.Shape[0];
    public override IEnumerable<Value> Inputs => Bias is null ? [Input, Weight.Value] : [Input, Weight.Value, Bias.Value];
    public override string OpName => "conv2d";
}

/// <summary>
/// What a binary convolution reads outside the input. Zero (the default): padded taps contribute nothing, the
/// convolution of the real-valued layer with sign(x) and sign(W), which is what training frameworks compute by
/// default (Larq's pad_values=0). One: padded taps read +1 (bit 0), cheaper on hardware with no border handling.
/// </summary>
public enum BinaryPadding { Zero, One }

/// <summary>
/// A binary layer (XNOR-Net style): y = alpha * (sign(x) conv sign(W)) + b with latent real-valued weights W, sign
/// +1 for x &gt;= 0, alpha[o] = mean |W[o]| per output channel, computed by XNOR and popcount on bit-packed signs.
/// Trained with straight-through estimators; the optimizer clips W to [-1, 1] (docs/BINARY.md).
/// </summary>
public abstract record BinaryLayerNode(string Name, Value Input, Parameter Weight, Parameter? Bias, Value Output, BinaryPadding Padding) : Node(Name, Output)
{
    /// <summary>MST compression of the forward pass (docs/BINARY.md), or null for the plain XNOR-popcount.</summary>
    public MstOption? Mst { get; init; }

    /// <summary>Train the binary weights with Bop (docs/BINARY.md) instead of the model's SGD on latent weights, or null.</summary>
    public BopOption? Bop { get; init; }

    /// <summary>The layer as a convolution (a linear layer is a 1x1 convolution of a 1x1 image).</summary>
    public abstract ConvGeometry Geometry { get; }
    public override IEnumerable<Value> Inputs => Bias is null ? [Input, Weight.Value] : [Input, Weight.Value, Bias.Value];
}

/// <summary>
/// Compute each output channel from its parent in a minimum spanning tree over the channels' kernels (Hamming
/// distance), rebuilt on the device whenever a weight's sign flips. <see cref="MaxDepth"/> bounds the tree's depth;
/// <see cref="Regularization"/> (lambda, 0 = off) adds lambda / 2 * sum over edges of ||W_child - W_parent||^2 to the
/// loss, which pulls children's signs toward their parents' and shortens the tree (docs/BINARY.md).
/// </summary>
public sealed record MstOption(int? MaxDepth = null, float Regularization = 0f);

/// <summary>
/// The Bop optimizer (Helwegen et al., NeurIPS 2019) for a binary layer's weights: no step size, no latent magnitudes
/// to learn. Per weight, m = m + Adaptivity * (g - m), an exponential moving average of the gradient, and the weight's
/// sign flips when sign(w) * m &gt; Threshold (the gradient has consistently pointed along its sign). Flipping keeps |W|, so
/// alpha = mean |W| stays what initialization made it (docs/BINARY.md, "Bop").
/// </summary>
public sealed record BopOption(float Threshold = 1e-8f, float Adaptivity = 1e-4f);

/// <summary>Binary 2-D convolution over a CHW input; W has shape [out, in / groups, kh, kw].</summary>
public sealed record BinaryConv2dNode(string Name, Value Input, Parameter Weight, Parameter? Bias, Value Output, Window2d Window, int Groups, BinaryPadding Padding)
    : BinaryLayerNode(Name, Input, Weight, Bias, Output, Padding)
{
    public override ConvGeometry Geometry => new(Input.Shape[0], Output.Shape[0], Groups, Window);
    public override string OpName => "binary_conv2d";
}

/// <summary>Binary fully connected layer; W has shape [out, in].</summary>
public sealed record BinaryLinearNode(string Name, Value Input, Parameter Weight, Parameter? Bias, Value Output)
    : BinaryLayerNode(Name, Input, Weight, Bias, Output, BinaryPadding.Zero)
{
    public override ConvGeometry Geometry => new(Input.Elements, Output.Elements, 1, new Window2d(1, 1, 1, 1));
    public override string OpName => "binary_linear";
}

/// <summary>
/// A parameterized hypercomplex (PHM) layer: its weight is W = sum over i of A_i (x) F_i (Kronecker products on the
/// channel axes), A of shape [n, n, n], F of shape [n, out / n, in / n (, kh, kw)], so it has about n times fewer
/// parameters than the ordinary layer it stands for (docs/PHM.md).
/// </summary>
public abstract record PhmLayerNode(string Name, Value Input, Parameter A, Parameter F, Parameter? Bias, Value Output, int N) : Node(Name, Output)
{
    /// <summary>The ordinary layer W stands for, as a convolution (a linear layer is the 1x1 convolution of a 1x1 image).</summary>
    public abstract ConvGeometry Geometry { get; }
    /// <summary>Rows of each F_i: out / n.</summary>
    public int P => Geometry.OutChannels / N;
    /// <summary>Columns of each F_i: in / n.</summary>
    public int Q => Geometry.InChannels / N;
    /// <summary>Build W every step or evaluate the factors directly; Auto lets <c>PhmEvaluationPlan</c> choose by MACs.</summary>
    public PhmEvaluation Evaluation { get; init; } = PhmEvaluation.Auto;
    public override IEnumerable<Value> Inputs => Bias is null ? [Input, A.Value, F.Value] : [Input, A.Value, F.Value, Bias.Value];
}

/// <summary>PHM fully connected layer: W [out, in] = sum_i A_i (x) F_i, F_i of shape [out / n, in / n].</summary>
public sealed record PhmLinearNode(string Name, Value Input, Parameter A, Parameter F, Parameter? Bias, Value Output, int N)
    : PhmLayerNode(Name, Input, A, F, Bias, Output, N)
{
    public override ConvGeometry Geometry => new(Input.Elements, Output.Elements, 1, new Window2d(1, 1, 1, 1));
    public override string OpName => "phm_linear";
}

/// <summary>PHM 2-D convolution: W [out, in, kh, kw] = sum_i A_i (x) F_i on the channel axes, F_i of shape [out / n, in / n, kh, kw].</summary>
public sealed record PhmConv2dNode(string Name, Value Input, Parameter A, Parameter F, Parameter? Bias, Value Output, int N, Window2d Window)
    : PhmLayerNode(Name, Input, A, F, Bias, Output, N)
{
    public override ConvGeometry Geometry => new(Input.Shape[0], Output.Shape[0], 1, Window);
    public override string OpName => "phm_conv2d";
}

/// <summary>How a PHM layer is computed (docs/PHM.md, "Build or factored").</summary>
public enum PhmEvaluation
{
    /// <summary>Whichever of the two costs fewer multiply-accumulates per training step.</summary>
    Auto,
    /// <summary>Build W = sum_i A_i (x) F_i into scratch each step, then run the ordinary layer's kernels.</summary>
    Build,
    /// <summary>Never materialize W: mix the input's channel blocks with A, then apply F to the mixed blocks.</summary>
    Factored,
}

public enum PoolKind { Max, Average }

/// <summary>
/// Max or average pooling per channel. Padded positions never win a max and, for the average, count in the divisor
/// only when <see cref="CountIncludePad"/> (ONNX count_include_pad). Global average pooling is a window of the whole input.
/// </summary>
public sealed record PoolNode(string Name, Value Input, Value Output, PoolKind Kind, Window2d Window, bool CountIncludePad, bool Global = false) : Node(Name, Output)
{
    public int Channels => Input.Shape[0];
    public override IEnumerable<Value> Inputs => [Input];
    public override string OpName => Global ? "global_average_pool" : Kind == PoolKind.Max ? "max_pool" : "average_pool";
}

/// <summary>
/// Batch normalization in inference form with frozen statistics: y = (x - mean) * inv_std * scale + shift per channel,
/// inv_std = 1 / sqrt(var + eps) folded at compile time. Scale and shift are ordinary (trainable or frozen) parameters.
/// </summary>
public sealed record BatchNormNode(string Name, Value Input, Parameter Scale, Parameter Shift, Parameter Mean, Parameter InvStd, Value Output) : Node(Name, Output)
{
    public int Channels => Input.Shape[0];
    public override IEnumerable<Value> Inputs => [Input, Scale.Value, Shift.Value, Mean.Value, InvStd.Value];
    public override string OpName => "batch_norm";
}

/// <summary>The same elements under another shape (Flatten, Reshape): no data moves.</summary>
public sealed record ReshapeNode(string Name, Value Input, Value Output) : Node(Name, Output)
{
    public override IEnumerable<Value> Inputs => [Input];
    public override string OpName => "reshape";
}

/// <summary>y = x &gt; 0 ? x : slope * x (PyTorch's LeakyReLU; slope 0.01 by default).</summary>
public sealed record LeakyReluNode(string Name, Value Input, Value Output, float Slope) : Node(Name, Output)
{
    public override IEnumerable<Value> Inputs => [Input];
    public override string OpName => "leaky_relu";
}

/// <summary>y = a + b (a residual connection), broadcasting a and b to y's shape (<see cref="ModelBuilder.Broadcast"/>).</summary>
public sealed record AddNode(string Name, Value A, Value B, Value Output) : Node(Name, Output)
{
    public override IEnumerable<Value> Inputs => [A, B];
    public override string OpName => "add";
}

/// <summary>y = 1 / (1 + exp(-x)).</summary>
public sealed record SigmoidNode(string Name, Value Input, Value Output) : Node(Name, Output)
{
    public override IEnumerable<Value> Inputs => [Input];
    public override string OpName => "sigmoid";
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

using TinyOdl.Data;
using TinyOdl.Graph;
using TinyOdl.Passes;

namespace TinyOdl.Frontends.Onnx;

/// <summary>
/// What an ONNX file does not say but a TinyOdl model needs: the loss, the optimizer, and optionally the precision,
/// the training data and the model name. The CLI fills these from its options; every field has a default.
/// </summary>
public sealed record OnnxImportOptions
{
    public static OnnxImportOptions Default { get; } = new();

    /// <summary>
    /// The training loss. Null (the default): softmax_cross_entropy when the graph ends in Softmax or LogSoftmax
    /// (that op is then removed, since the loss applies it), else mse.
    /// </summary>
    public LossKind? Loss { get; init; }

    /// <summary>SGD settings (default: learning rate 0.01, no momentum, no weight decay).</summary>
    public SgdOptimizer Optimizer { get; init; } = new(0.01f);

    /// <summary>Precision of every imported layer (default fp32).</summary>
    public Precision? Precision { get; init; }

    /// <summary>Data set and schedule of the on-device run (default: the small synthetic data set, 3 epochs).</summary>
    public TrainingSettings Training { get; init; } = new(null);

    /// <summary>Model name (an identifier); default: the file name without extension, made an identifier.</summary>
    public string? Name { get; init; }
}

/// <summary>The op that ended the ONNX graph and was folded into the softmax_cross_entropy loss.</summary>
public enum OnnxFoldedOutput
{
    /// <summary>Nothing was removed: the model's prediction is the graph output.</summary>
    None,
    /// <summary>A final Softmax was removed: the graph output is softmax(prediction).</summary>
    Softmax,
    /// <summary>A final LogSoftmax was removed: the graph output is log(softmax(prediction)).</summary>
    LogSoftmax,
}

/// <summary>How a graph input or output of the ONNX file maps onto the model's per-sample tensor.</summary>
/// <param name="OnnxName">The tensor's name in the ONNX graph.</param>
/// <param name="Dims">Its ONNX shape, batch dimension included (a symbolic one by its name, e.g. "N").</param>
/// <param name="Batched">Whether the first ONNX dimension is the batch dimension (dropped in the model).</param>
/// <param name="SampleShape">The shape of one sample (the ONNX shape without the batch dimension).</param>
public sealed record OnnxBinding(string OnnxName, IReadOnlyList<string> Dims, bool Batched, Shape SampleShape)
{
    public override string ToString() => $"'{OnnxName}' [{string.Join(", ", Dims)}]";
}

/// <summary>
/// An imported ONNX model: the <see cref="ModelDocument"/> to compile, and what is needed to run the compiled
/// model on the file's own tensors (conformance data): how inputs and outputs are batched, and which final op,
/// if any, went into the loss (predict returns the values before it).
/// </summary>
public sealed record OnnxImport(
    ModelDocument Document,
    OnnxBinding Input,
    OnnxBinding Output,
    OnnxFoldedOutput FoldedOutput,
    long Opset,
    string Producer)
{
    public Model Model => Document.Model;
}

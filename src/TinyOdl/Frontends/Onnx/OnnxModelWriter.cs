using System.Buffers.Binary;
using System.Globalization;
using Google.Protobuf;
using Onnx;
using TinyOdl.Graph;

namespace TinyOdl.Frontends.Onnx;

/// <summary>What <see cref="OnnxModelWriter"/> wrote: the serialized file and a few counts for reports.</summary>
public sealed record OnnxExport(byte[] Bytes, int Nodes, int Initializers);

/// <summary>
/// Exports a TinyOdl <see cref="Model"/> as an ONNX inference graph (opset 13, IR version 7; docs/MODEL_FORMAT.md,
/// "ONNX export"), the inverse of <see cref="OnnxModelReader"/>: the input is [N, ...] with a symbolic batch N, every
/// parameter is an initializer holding its initial value bit for bit (little-endian raw_data), and a
/// softmax_cross_entropy loss becomes a final Softmax, which the importer folds back into the loss. ONNX values and
/// nodes keep the model's names, so importing the file gives the same nodes, shapes, names and weight bits.
/// The output is deterministic: the same model gives the same bytes.
/// </summary>
public static class OnnxModelWriter
{
    public const long Opset = 13;
    /// <summary>The IR version that goes with opset 13 (ONNX 1.8).</summary>
    public const long IrVersion = 7;
    /// <summary>Name of the symbolic batch dimension of the graph input and output.</summary>
    public const string BatchDimension = "N";
    public const string Producer = "TinyOdl";

    /// <summary>The epsilon a BatchNormalization gets, unless its inv_std needs 0 (see <see cref="VarianceFor"/>).</summary>
    public const float DefaultEpsilon = 1e-5f;

    /// <summary>Serializes <paramref name="model"/>; <paramref name="source"/> (the model file) prefixes errors.</summary>
    public static OnnxExport Export(Model model, string? source = null)
    {
        try
        {
            var proto = new Exporter(model).Run();
            return new OnnxExport(proto.ToByteArray(), proto.Graph.Node.Count, proto.Graph.Initializer.Count);
        }
        catch (TinyOdlException e) when (source is not null)
        {
            throw TinyOdlException.At(source, e.Message);
        }
    }

    /// <summary>
    /// Exports <paramref name="model"/> to <paramref name="path"/> (an .onnx file): written beside it and renamed into
    /// place, so the file is complete or untouched. Nothing is written when the model cannot be exported.
    /// </summary>
    public static OnnxExport Write(Model model, string path, string? source = null)
    {
        if (!string.Equals(Path.GetExtension(path), ".onnx", StringComparison.OrdinalIgnoreCase))
            throw TinyOdlException.At(path, "the output file needs the .onnx extension (TinyOdl picks a model's reader by its extension)");
        var target = Path.GetFullPath(path);
        if (Directory.Exists(target)) throw TinyOdlException.At(path, "is a folder; give the .onnx file to write");
        var export = Export(model, source);
        var parent = Path.GetDirectoryName(target) ?? ".";
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.tinyodl-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(parent);
            File.WriteAllBytes(staging, export.Bytes);
            File.Move(staging, target, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(staging);
            throw TinyOdlException.At(path, e.Message);
        }
        return export;
    }

    /// <summary>inv_std from a variance, as <see cref="ModelBuilder.BatchNorm"/> (and so the importer) computes it: in float64, rounded once.</summary>
    internal static float InvStd(float variance, float epsilon) => (float)(1.0 / Math.Sqrt((double)variance + epsilon));

    /// <summary>
    /// A variance v &gt;= 0 with <see cref="InvStd"/>(v, <paramref name="epsilon"/>) bit-equal to <paramref name="invStd"/>,
    /// or null if there is none. The variances that give one inv_std are a run of consecutive floats (1/sqrt is monotonic
    /// and halves relative steps); this returns the one nearest to the exact 1/inv_std^2 - epsilon.
    /// </summary>
    internal static float? VarianceFor(float invStd, float epsilon)
    {
        if (!(invStd > 0f) || !float.IsFinite(invStd)) return null;
        double exact = 1.0 / ((double)invStd * invStd) - epsilon;
        if (!(exact <= float.MaxValue)) return null;
        float start = (float)Math.Max(exact, 0.0);
        float up = start, down = start;
        for (int step = 0; step < 64; step++)
        {
            if (float.IsFinite(up) && InvStd(up, epsilon) == invStd) return up;
            if (down >= 0f && InvStd(down, epsilon) == invStd) return down;
            up = MathF.BitIncrement(up);
            down = MathF.BitDecrement(down);
        }
        return null;
    }

    private sealed class Exporter
    {
        private readonly Model _model;
        private readonly GraphProto _graph;
        /// <summary>Names in use: the model's values and, per node, every name the importer reserves for it.</summary>
        private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

        public Exporter(Model model)
        {
            _model = model;
            _graph = new GraphProto
            {
                Name = model.Name,
                DocString = $"TinyOdl model '{model.Name}' (inference graph; docs/MODEL_FORMAT.md, \"ONNX export\")",
            };
            _taken.UnionWith([model.Input.Name, model.Target.Name, model.Loss.Name, "target", "loss"]);
            _taken.UnionWith(model.Parameters.Select(p => p.Name));
            foreach (var n in model.Nodes)
                _taken.UnionWith(OnnxModelReader.ParameterSuffixes.Select(s => n.Name + s));
        }

        public ModelProto Run()
        {
            _graph.Input.Add(Tensor(_model.Input.Name, _model.Input.Shape));
            foreach (var node in _model.Nodes) Emit(node);
            var output = Loss(_model.Loss);
            _graph.Output.Add(Tensor(output, _model.Prediction.Shape));
            var proto = new ModelProto
            {
                IrVersion = IrVersion,
                ProducerName = Producer,
                DocString = "Exported by `tinyodl export`. Not stored in ONNX (the importer's defaults apply): the optimizer, the trainable flags and the training data.",
                Graph = _graph,
            };
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
            return proto;
        }

        private static TinyOdlException Refuse(Node n, string why) => TinyOdlException.At($"node '{n.Name}' ({n.OpName})", $"cannot be exported to ONNX: {why}");

        /// <summary>Adds the ONNX node of a model node (after the helpers and initializers it reads), named like it.</summary>
        private void Emit(Node node)
        {
            (string op, string[] inputs, AttributeProto[] attributes) = node switch
            {
                // Gemm reads [N, K]; a linear layer flattens any input, which ONNX says with a Flatten.
                LinearNode l => ("Gemm", [l.Input.Shape.Rank == 1 ? l.Input.Name : Flatten(Fresh($"{l.Name}_flatten"), l.Input.Name),
                    Initializer(l.Weight), .. Optional(l.Bias)], [Int("transB", 1)]),
                Conv2dNode c => ("Conv", [c.Input.Name, Initializer(c.Weight), .. Optional(c.Bias)], [.. Window(c.Window), Int("group", c.Groups)]),
                PoolNode { Global: true } p => ("GlobalAveragePool", [p.Input.Name], []),
                // A max pool ignores count_include_pad, so the flag is not exported for it.
                PoolNode { Kind: PoolKind.Max } p => ("MaxPool", [p.Input.Name], Window(p.Window)),
                PoolNode p => ("AveragePool", [p.Input.Name], [.. Window(p.Window), Int("count_include_pad", p.CountIncludePad ? 1 : 0)]),
                BatchNormNode b => BatchNormalization(b),
                ReshapeNode r when r.Output.Shape.Rank == 1 => ("Flatten", [r.Input.Name], [Int("axis", 1)]),
                ReshapeNode r => ("Reshape", [r.Input.Name, ShapeInitializer(r.Name, r.Output.Shape)], []),
                ReluNode r => ("Relu", [r.Input.Name], []),
                SigmoidNode g => ("Sigmoid", [g.Input.Name], []),
                LeakyReluNode l => ("LeakyRelu", [l.Input.Name], [Float("alpha", l.Slope)]),
                AddNode a => ("Add", [SameRank(a, a.A, "a"), SameRank(a, a.B, "b")], []),
                _ => throw Refuse(node, $"the ONNX exporter has no mapping for '{node.OpName}' nodes yet"),
            };
            Add(op, node.Name, inputs, attributes, node.Output.Name);
        }

        /// <summary>Inputs X, scale, B, mean, var (an initializer NAME_var, see <see cref="Variances"/>) and epsilon.</summary>
        private (string, string[], AttributeProto[]) BatchNormalization(BatchNormNode b)
        {
            var (epsilon, variance) = Variances(b);
            string[] inputs = [b.Input.Name, Initializer(b.Scale), Initializer(b.Shift), Initializer(b.Mean), Fresh($"{b.Name}_var")];
            _graph.Initializer.Add(FloatTensor(inputs[4], b.InvStd.Value.Shape, variance));
            return ("BatchNormalization", inputs, [Float("epsilon", epsilon)]);
        }

        /// <summary>
        /// An Add operand of lower rank than the result, as a view with leading 1s: TinyOdl broadcasts per sample, ONNX
        /// over the whole tensor, where [N, 16, 8, 8] + [N, 8] would align the batch with a row.
        /// </summary>
        private string SameRank(AddNode a, Value operand, string side)
        {
            int rank = a.Output.Shape.Rank;
            if (operand.Shape.Rank == rank) return operand.Name;
            var dims = Enumerable.Repeat(1, rank - operand.Shape.Rank).Concat(operand.Shape.Dims).ToArray();
            var name = Fresh($"{a.Name}_{side}_reshape");
            return Add("Reshape", name, [operand.Name, ShapeInitializer(name, new Shape(dims))], []);
        }

        /// <summary>The loss: softmax_cross_entropy is a final Softmax over the sample's one axis of size &gt; 1; mse adds nothing.</summary>
        private string Loss(LossNode loss)
        {
            var prediction = _model.Prediction;
            switch (loss)
            {
                case MseLossNode:
                    return prediction.Name;
                case SoftmaxCrossEntropyLossNode:
                {
                    var dims = prediction.Shape.Dims;
                    var wide = Enumerable.Range(0, dims.Count).Where(i => dims[i] > 1).ToArray();
                    if (wide.Length > 1)
                        throw Refuse(loss, $"its softmax covers all {prediction.Elements} elements of the prediction '{prediction.Name}' {prediction.Shape}, " +
                            "but an ONNX Softmax (opset 13) normalizes along one axis; flatten the prediction first");
                    int axis = 1 + (wide.Length == 1 ? wide[0] : dims.Count - 1);
                    var name = Fresh("softmax");
                    var output = Fresh("probabilities");
                    Add("Softmax", name, [prediction.Name], [Int("axis", axis)], output);
                    return output;
                }
                default:
                    throw Refuse(loss, $"the ONNX exporter has no mapping for the '{loss.OpName}' loss");
            }
        }

        /// <summary>
        /// epsilon and var such that the importer's 1/sqrt(var + epsilon) (float64, rounded to float32) gives back the exact
        /// inv_std bits: epsilon 1e-5 (PyTorch's default) when every channel allows a var &gt;= 0 with it, else epsilon 0.
        /// </summary>
        private static (float Epsilon, float[] Variance) Variances(BatchNormNode b)
        {
            var invStd = b.InvStd.Initial;
            foreach (var epsilon in new[] { DefaultEpsilon, 0f })
            {
                var variance = invStd.Select(s => VarianceFor(s, epsilon)).ToArray();
                if (variance.All(v => v.HasValue)) return (epsilon, variance.Select(v => v!.Value).ToArray());
            }
            int bad = Enumerable.Range(0, invStd.Count).First(i => VarianceFor(invStd[i], 0f) is null);
            throw Refuse(b, $"{b.InvStd.Name}[{bad}] = {invStd[bad].ToString("R", CultureInfo.InvariantCulture)} is not 1/sqrt(var) for any float32 var >= 0, " +
                "so no ONNX BatchNormalization imports to it");
        }

        /// <summary>A fresh name from <paramref name="stem"/> (stem, stem_2, ...) that neither the model nor the importer uses for anything else.</summary>
        private string Fresh(string stem)
        {
            var name = stem;
            for (int k = 2; OnnxModelReader.ParameterSuffixes.Any(s => _taken.Contains(name + s)); k++) name = $"{stem}_{k}";
            _taken.UnionWith(OnnxModelReader.ParameterSuffixes.Select(s => name + s));
            return name;
        }

        private string Flatten(string name, string input) => Add("Flatten", name, [input], [Int("axis", 1)]);

        /// <summary>The int64 initializer NAME_shape of a Reshape to [N, dims...] (0 copies the batch dimension).</summary>
        private string ShapeInitializer(string name, Shape shape)
        {
            var target = new TensorProto { Name = Fresh($"{name}_shape"), DataType = (int)TensorProto.Types.DataType.Int64 };
            target.Dims.Add(shape.Rank + 1);
            target.Int64Data.Add(0);
            target.Int64Data.AddRange(shape.Dims.Select(d => (long)d));
            _graph.Initializer.Add(target);
            return target.Name;
        }

        /// <summary>Adds a node whose output value is named <paramref name="output"/> (default: the node's name); returns the output.</summary>
        private string Add(string op, string name, string[] inputs, AttributeProto[] attributes, string? output = null)
        {
            var node = new NodeProto { OpType = op, Name = name };
            node.Input.AddRange(inputs);
            node.Output.Add(output ?? name);
            node.Attribute.AddRange(attributes);
            _graph.Node.Add(node);
            return output ?? name;
        }

        private string Initializer(Parameter p)
        {
            _graph.Initializer.Add(FloatTensor(p.Name, p.Value.Shape, p.Initial));
            return p.Name;
        }

        private IEnumerable<string> Optional(Parameter? p) => p is null ? [] : [Initializer(p)];

        /// <summary>kernel_shape, strides and pads ([top, left, bottom, right]) of a Conv or pooling node.</summary>
        private static AttributeProto[] Window(Window2d w) =>
            [Ints("kernel_shape", w.KernelH, w.KernelW), Ints("strides", w.StrideH, w.StrideW), Ints("pads", w.PadTop, w.PadLeft, w.PadBottom, w.PadRight)];

        private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

        private static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

        private static AttributeProto Ints(string name, params long[] values)
        {
            var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            a.Ints.AddRange(values);
            return a;
        }

        /// <summary>A float32 tensor with its values' exact bits as little-endian raw_data.</summary>
        private static TensorProto FloatTensor(string name, Shape shape, IReadOnlyList<float> values)
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
            t.Dims.AddRange(shape.Dims.Select(d => (long)d));
            var bytes = new byte[values.Count * 4];
            for (int i = 0; i < values.Count; i++) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), BitConverter.SingleToUInt32Bits(values[i]));
            t.RawData = UnsafeByteOperations.UnsafeWrap(bytes);
            return t;
        }

        /// <summary>A float32 graph input or output [N, dims...].</summary>
        private static ValueInfoProto Tensor(string name, Shape shape)
        {
            var dims = new TensorShapeProto();
            dims.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchDimension });
            foreach (var d in shape.Dims) dims.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            return new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = dims } },
            };
        }
    }
}

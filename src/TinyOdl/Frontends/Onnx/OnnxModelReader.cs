using System.Text;
using Google.Protobuf;
using Onnx;
using TinyOdl.Graph;
using TinyOdl.Passes;

namespace TinyOdl.Frontends.Onnx;

/// <summary>
/// Imports an ONNX model (docs/MODEL_FORMAT.md, "ONNX import") onto <see cref="ModelBuilder"/>: Gemm and MatMul (+ Add of
/// a bias) become Linear layers with the file's weights, Relu, LeakyRelu and Add (residual) map one to one, the 2-D
/// image ops (Conv, pooling, inference BatchNormalization) to their CHW nodes (OnnxModelReader.Cnn.cs), Flatten and
/// Reshape to views, inference-only ops vanish, and a final Softmax/LogSoftmax is folded into the softmax_cross_entropy loss. The first dimension of a graph input
/// of rank 2 or more is the batch dimension: the model is the per-sample computation (batch size 1), so an NCHW input is a CHW model input.
/// Every error is one line "file: where: why" naming the node (name, op type, opset) and, where it applies, the
/// attribute or input, e.g. "m.onnx: node 'Conv_0' (Conv, opset 9): attribute dilations=[2, 2] is not supported; ...".
/// </summary>
public static partial class OnnxModelReader
{
    /// <summary>Ops the importer maps (some only in the forms the docs describe).</summary>
    public static IReadOnlyList<string> SupportedOps { get; } =
        ["Gemm", "MatMul", "Conv", "Add", "Relu", "LeakyRelu", "Sigmoid", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization",
         "Flatten", "Reshape", "Identity", "Dropout", "Constant", "Transpose", "Softmax", "LogSoftmax"];

    private const string SupportedList =
        "Gemm, MatMul, Conv (2-D), Add (bias of a Gemm/MatMul, or of two computed tensors that broadcast), Relu, LeakyRelu, Sigmoid, " +
        "MaxPool, AveragePool, GlobalAveragePool (2-D), BatchNormalization (inference), Flatten, Reshape, " +
        "Identity, Dropout, Constant, " +
        "Transpose (of initializers), Softmax/LogSoftmax (last op, folded into the loss)";

    /// <summary>
    /// Names a model node NAME may give its parameters: NAME_weight, NAME_bias, and a batch_norm's NAME_mean and NAME_inv_std.
    /// The importer reserves them all with each node's name (and so does the exporter, whose names must survive an import).
    /// </summary>
    internal static readonly string[] ParameterSuffixes = ["", "_weight", "_bias", "_mean", "_inv_std"];

    /// <summary>Reads <paramref name="path"/> and builds the model with the options' loss, optimizer and precision.</summary>
    public static ModelDocument Load(string path, OnnxImportOptions? options = null) => Import(path, options).Document;

    /// <summary>Like <see cref="Load"/>, and says how the file's inputs and outputs map onto the model (for running conformance data).</summary>
    public static OnnxImport Import(string path, OnnxImportOptions? options = null)
    {
        if (!File.Exists(path)) throw TinyOdlException.At(path, "file not found");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw TinyOdlException.At(path, e.Message); }
        return Import(bytes, path, options);
    }

    /// <param name="path">The file the bytes came from: names errors and the default model name.</param>
    public static OnnxImport Import(byte[] bytes, string path, OnnxImportOptions? options = null)
    {
        try
        {
            var model = ParseModel(bytes, path);
            return new Importer(path, model, options ?? OnnxImportOptions.Default).Run();
        }
        catch (TinyOdlException e) when (e.Message.Any(char.IsControl))
        {
            // Names come from the file: keep the error on one line whatever they hold.
            throw new TinyOdlException(string.Concat(e.Message.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())), e);
        }
    }

    /// <summary>Parses the protobuf, telling "not ONNX at all" from "an ONNX file cut short".</summary>
    internal static ModelProto ParseModel(byte[] bytes, string file)
    {
        if (bytes.Length == 0) throw TinyOdlException.At(file, "not an ONNX model (the file is empty)");
        ModelProto m;
        try { m = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            bool cut = e.Message.Contains("ended unexpectedly", StringComparison.Ordinal) || e.Message.Contains("truncated", StringComparison.OrdinalIgnoreCase);
            if (cut && StartsLikeModelProto(bytes))
                throw TinyOdlException.At(file, $"truncated: the file ends inside an ONNX protobuf field after {bytes.Length} bytes; export or copy the model again");
            throw TinyOdlException.At(file, $"not an ONNX model ({NotOnnxHint(bytes) ?? $"not a protobuf ModelProto: {FirstSentence(e.Message)}"})");
        }
        if (m.IrVersion <= 0 || m.Graph is null)
            throw TinyOdlException.At(file, $"not an ONNX model ({NotOnnxHint(bytes) ?? (m.IrVersion <= 0 ? "no ir_version" : "no graph")}; a file cut short can look like this too)");
        if (m.OpsetImport.Count == 0 && m.IrVersion >= 3)
            throw TinyOdlException.At(file, $"truncated or invalid: no opset_import, which IR version {m.IrVersion} requires");
        return m;
    }

    /// <summary>Whether the first field is one a ModelProto has, with its wire type (ONNX writers start with ir_version).</summary>
    private static bool StartsLikeModelProto(byte[] bytes)
    {
        try
        {
            var input = new CodedInputStream(bytes);
            uint tag = input.ReadTag();
            int field = (int)(tag >> 3), wire = (int)(tag & 7);
            return field switch
            {
                1 or 5 => wire == 0,
                2 or 3 or 4 or 6 or 7 or 8 or 14 or 20 or 25 => wire == 2,
                _ => false,
            };
        }
        catch (InvalidProtocolBufferException) { return false; }
    }

    private static string? NotOnnxHint(byte[] bytes)
    {
        int i = 0;
        while (i < bytes.Length && bytes[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') i++;
        if (i < bytes.Length && bytes[i] == (byte)'{') return "it looks like JSON; TinyOdl JSON models need the .json extension";
        if (bytes.Length >= 4 && bytes[0] == 'P' && bytes[1] == 'K') return "it looks like a zip archive (a PyTorch .pt checkpoint?); export with torch.onnx.export";
        return null;
    }

    private static string FirstSentence(string message)
    {
        int dot = message.IndexOf(". ", StringComparison.Ordinal);
        return (dot >= 0 ? message[..dot] : message).TrimEnd('.', ' ');
    }

    /// <summary>A value of the ONNX graph computed from the model input: the builder's value and its ONNX shape per sample.</summary>
    private sealed record Sym(Value Graph, int[] Sample, bool Batched);

    /// <summary>A node with the name errors use: its own, or "OpType_index" when it has none (old PyTorch exports).</summary>
    private sealed record OnnxNode(int Index, NodeProto Proto, string DisplayName, string Where)
    {
        public string Op => Proto.OpType;
        public string In(int i) => i < Proto.Input.Count ? Proto.Input[i] : "";
        public string Out(int i) => i < Proto.Output.Count ? Proto.Output[i] : "";
    }

    private sealed partial class Importer
    {
        private readonly string _file;
        private readonly ModelProto _model;
        private readonly GraphProto _graph;
        private readonly OnnxImportOptions _options;
        private readonly Dictionary<string, long> _opsets = new(StringComparer.Ordinal);
        private readonly Dictionary<string, TensorProto> _constants = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Sym> _values = new(StringComparer.Ordinal);
        private readonly HashSet<string> _otherInputs = new(StringComparer.Ordinal);
        private readonly HashSet<string> _usedNames = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _producer = new(StringComparer.Ordinal);
        private readonly HashSet<int> _fused = [];
        private readonly HashSet<string> _graphOutputs;
        private OnnxNode[] _nodes = [];
        private bool[] _live = [];
        private ModelBuilder _builder = null!;
        private string _batchLabel = "";
        private long? _batch; // fixed batch size, or null when symbolic or when the input has no batch dimension
        private OnnxFoldedOutput _folded = OnnxFoldedOutput.None;
        /// <summary>Linear layers made from a Gemm/MatMul without bias, by their ONNX output name (an Add may still be their bias).</summary>
        private readonly Dictionary<string, OnnxNode> _biasless = new(StringComparer.Ordinal);

        public Importer(string file, ModelProto model, OnnxImportOptions options)
        {
            _file = file;
            _model = model;
            _graph = model.Graph;
            _options = options;
            foreach (var o in model.OpsetImport)
                _opsets[o.Domain is "" or "ai.onnx" ? "" : o.Domain] = o.Version;
            if (!_opsets.ContainsKey("") && model.IrVersion < 3) _opsets[""] = 1;
            _graphOutputs = _graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        }

        private long Opset => _opsets.TryGetValue("", out var v) ? v : 0;

        private TinyOdlException Fail(string where, string why) => TinyOdlException.At($"{_file}: {where}", why);
        private TinyOdlException Fail(OnnxNode n, string why) => Fail(n.Where, why);

        public OnnxImport Run()
        {
            _nodes = _graph.Node.Select(Describe).ToArray();
            foreach (var n in _nodes)
                foreach (var o in n.Proto.Output.Where(o => o.Length > 0))
                    if (!_producer.TryAdd(o, n.Index))
                        throw Fail(n, $"output '{o}' is also produced by node '{_nodes[_producer[o]].DisplayName}' (ONNX values have one producer)");
            if (_graph.Output.Count == 0) throw Fail("graph", "has no outputs");
            MarkLive();

            // Unsupported operators first: they are what a user needs to know about before anything else.
            foreach (var n in LiveNodes())
                if (!IsDefaultDomain(n.Proto.Domain) || !SupportedOps.Contains(n.Op))
                    throw Fail(n, $"operator not supported yet; supported: {SupportedList}");

            if (_graph.Output.Count > 1)
                throw Fail("graph", $"has {_graph.Output.Count} outputs ({string.Join(", ", _graph.Output.Select(o => $"'{o.Name}'"))}); TinyOdl trains models with one output");
            if (_graph.SparseInitializer.Count > 0)
                throw Fail($"initializer '{_graph.SparseInitializer[0].Values?.Name}'", "sparse initializers are not supported");
            foreach (var t in _graph.Initializer)
                if (!_constants.TryAdd(t.Name, t)) throw Fail($"initializer '{t.Name}'", "name is used twice");

            CreateBuilder();
            foreach (var n in LiveNodes())
                if (!_fused.Contains(n.Index)) Map(n);
            return Finish();
        }

        private OnnxNode Describe(NodeProto p, int index)
        {
            string name = p.Name.Length > 0 ? p.Name : $"{(p.OpType.Length > 0 ? p.OpType : "node")}_{index}";
            string domain = IsDefaultDomain(p.Domain) ? "" : p.Domain;
            string version = _opsets.TryGetValue(domain, out var v) ? v.ToString() : "?";
            string op = domain.Length == 0 ? p.OpType : $"{domain}.{p.OpType}";
            return new OnnxNode(index, p, name, $"node '{name}' ({op}, opset {version})");
        }

        private static bool IsDefaultDomain(string d) => d is "" or "ai.onnx";

        private IEnumerable<OnnxNode> LiveNodes() => _nodes.Where(n => _live[n.Index]);

        /// <summary>Nodes that the graph outputs depend on; others are dead code and ignored.</summary>
        private void MarkLive()
        {
            _live = new bool[_nodes.Length];
            var pending = new Stack<string>(_graph.Output.Select(o => o.Name));
            while (pending.Count > 0)
            {
                var name = pending.Pop();
                if (!_producer.TryGetValue(name, out int i) || _live[i]) continue;
                _live[i] = true;
                foreach (var input in _nodes[i].Proto.Input.Where(s => s.Length > 0)) pending.Push(input);
            }
        }

        private IEnumerable<OnnxNode> Consumers(string value) =>
            LiveNodes().Where(n => n.Proto.Input.Contains(value));

        // ---------------------------------------------------------------- input and builder

        private void CreateBuilder()
        {
            var dynamicInputs = _graph.Input.Where(i => !_constants.ContainsKey(i.Name)).ToList();
            if (dynamicInputs.Count == 0) throw Fail("graph", "has no input (every graph input is an initializer)");
            var primary = dynamicInputs.FirstOrDefault(i => Consumers(i.Name).Any()) ?? dynamicInputs[0];
            foreach (var other in dynamicInputs.Where(i => i != primary)) _otherInputs.Add(other.Name);

            var consumer = Consumers(primary.Name).FirstOrDefault();
            string where = $"graph input '{primary.Name}'" + (consumer is null ? "" : $" (read by {consumer.Where})");
            var (sample, batched) = InputShape(primary, where);

            string modelName = _options.Name ?? ModelNameFrom(_file);
            string inputName = ModelBuilder.IsIdentifier(primary.Name) && primary.Name is not ("target" or "loss") ? primary.Name : "input";
            _usedNames.UnionWith([inputName, "target", "loss"]);
            try { _builder = new ModelBuilder(modelName, new Shape(sample), seed: 1, inputName: inputName); }
            catch (TinyOdlException e) { throw TinyOdlException.At(_file, e.Message); }
            _builder.DefaultPrecision = _options.Precision ?? Precision.Fp32;
            _values[primary.Name] = new Sym(_builder.Input, sample, batched);
            InputBinding = Binding(primary.Name, _values[primary.Name]);
        }

        private OnnxBinding InputBinding { get; set; } = null!;

        private (int[] Sample, bool Batched) InputShape(ValueInfoProto vi, string where)
        {
            if (vi.Type is null || vi.Type.ValueCase != TypeProto.ValueOneofCase.TensorType)
                throw Fail(where, "is not a tensor; TinyOdl needs one float32 tensor input");
            var tt = vi.Type.TensorType;
            if (tt.ElemType != (int)TensorProto.Types.DataType.Float)
                throw Fail(where, $"element type {OnnxTensors.TypeName(tt.ElemType)} is not supported; TinyOdl imports float32 (FLOAT) models");
            if (tt.Shape is null) throw Fail(where, "has no shape; export the model with a fixed input shape");
            var dims = tt.Shape.Dim;
            if (dims.Count == 0) throw Fail(where, "is a scalar; TinyOdl needs a tensor input");
            string[] labels = dims.Select(d => d.ValueCase switch
            {
                TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => d.DimValue.ToString(),
                TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => d.DimParam.Length > 0 ? d.DimParam : "?",
                _ => "?",
            }).ToArray();
            string shape = "[" + string.Join(", ", labels) + "]";
            bool Fixed(int i) => dims[i].ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && dims[i].DimValue > 0;

            if (dims.Count == 1)
            {
                if (!Fixed(0)) throw Fail(where, $"has shape {shape}: dimension 0 is dynamic; a 1-D input is one sample and needs a fixed size");
                return (CheckedSample([CheckedDim(dims[0].DimValue, where)], shape, where), false);
            }
            for (int i = 1; i < dims.Count; i++)
                if (!Fixed(i))
                    throw Fail(where, $"has shape {shape}: dimension {i} ('{labels[i]}') is dynamic; only the first (batch) dimension may be. Export with fixed sizes for the others");
            _batch = Fixed(0) ? dims[0].DimValue : null;
            _batchLabel = labels[0];
            return (CheckedSample(dims.Skip(1).Select(d => CheckedDim(d.DimValue, where)).ToArray(), shape, where), true);
        }

        private int[] CheckedSample(int[] sample, string shape, string where) =>
            sample.Aggregate(1L, (a, b) => a * b) <= 1 << 24 ? sample : throw Fail(where, $"has shape {shape}: more than {1 << 24} elements per sample");

        private int CheckedDim(long d, string where) =>
            d is > 0 and <= 1 << 24 ? (int)d : throw Fail(where, $"dimension {d} is out of range (1 to {1 << 24})");

        private static string ModelNameFrom(string file)
        {
            var stem = Sanitize(Path.GetFileNameWithoutExtension(file));
            return stem.Length > 0 ? stem : "onnx_model";
        }

        /// <summary>An identifier from an ONNX name: "/fc1/Gemm" -> "fc1_Gemm", "0" -> "_0".</summary>
        private static string Sanitize(string s)
        {
            var sb = new StringBuilder(s.Length);
            foreach (var c in s) sb.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
            var id = sb.ToString().Trim('_');
            while (id.Contains("__", StringComparison.Ordinal)) id = id.Replace("__", "_", StringComparison.Ordinal);
            return id.Length > 0 && char.IsAsciiDigit(id[0]) ? "_" + id : id;
        }

        /// <summary>A fresh identifier for a model node (its parameters are NAME_weight, NAME_bias, ...).</summary>
        private string NodeName(OnnxNode n)
        {
            var baseName = Sanitize(n.DisplayName);
            if (baseName.Length == 0) baseName = $"node_{n.Index}";
            var name = baseName;
            for (int k = 2; ParameterSuffixes.Any(s => _usedNames.Contains(name + s)); k++)
                name = $"{baseName}_{k}";
            _usedNames.UnionWith(ParameterSuffixes.Select(s => name + s));
            return name;
        }

        // ---------------------------------------------------------------- operands and attributes

        private string FullShape(Sym s) =>
            "[" + string.Join(", ", (s.Batched ? [_batchLabel] : Array.Empty<string>()).Concat(s.Sample.Select(d => d.ToString()))) + "]";

        private Sym Dynamic(OnnxNode n, int index, string role)
        {
            var name = n.In(index);
            if (name.Length == 0) throw Fail(n, $"input {role} is missing");
            if (_values.TryGetValue(name, out var s)) return s;
            if (_constants.ContainsKey(name))
                throw Fail(n, $"input {role} ('{name}') is a constant (initializer); TinyOdl supports this op only on values computed from the model input");
            throw Missing(n, name, role);
        }

        private TensorProto Constant(OnnxNode n, int index, string role)
        {
            var name = n.In(index);
            if (name.Length == 0) throw Fail(n, $"input {role} is missing");
            if (_constants.TryGetValue(name, out var t)) return t;
            if (_values.ContainsKey(name))
                throw Fail(n, $"input {role} ('{name}') must be an initializer (constant weights); here it is computed from the model input, which is not supported");
            throw Missing(n, name, role);
        }

        private TinyOdlException Missing(OnnxNode n, string name, string role) => Fail(n, WhyMissing(name, role));

        private string WhyMissing(string name, string role) =>
            _otherInputs.Contains(name)
                ? $"input {role} ('{name}') is a second graph input; TinyOdl models have one input, and weights must be initializers (export with the parameters stored in the model)"
                : $"input {role} ('{name}') is not produced by an earlier node, an initializer or the graph input";

        private OnnxTensor Floats(OnnxNode n, TensorProto t, string role) =>
            OnnxTensors.ToFloat(t, $"{_file}: {n.Where}: input {role} ('{t.Name}')");

        /// <summary>A node's attributes, checked against the ones the importer understands for this op and opset.</summary>
        private sealed class Attributes
        {
            private readonly Importer _imp;
            private readonly OnnxNode _n;
            private readonly Dictionary<string, AttributeProto> _a = new(StringComparer.Ordinal);

            public Attributes(Importer imp, OnnxNode n, params string[] known)
            {
                _imp = imp;
                _n = n;
                foreach (var a in n.Proto.Attribute)
                {
                    if (!known.Contains(a.Name))
                        throw imp.Fail(n, $"attribute '{a.Name}' is not supported" + (known.Length > 0 ? $" (understood here: {string.Join(", ", known)})" : " (this op takes no attributes here)"));
                    if (a.RefAttrName.Length > 0)
                        throw imp.Fail(n, $"attribute '{a.Name}' refers to a function attribute ('{a.RefAttrName}'), which is not supported");
                    _a[a.Name] = a;
                }
            }

            public bool Has(string name) => _a.ContainsKey(name);

            private AttributeProto Get(string name, AttributeProto.Types.AttributeType type)
            {
                var a = _a[name];
                if (a.Type != AttributeProto.Types.AttributeType.Undefined && a.Type != type)
                    throw _imp.Fail(_n, $"attribute '{name}' has type {a.Type.ToString().ToUpperInvariant()}, expected {type.ToString().ToUpperInvariant()}");
                return a;
            }

            public long Int(string name, long fallback) => Has(name) ? Get(name, AttributeProto.Types.AttributeType.Int).I : fallback;
            public float Float(string name, float fallback) => Has(name) ? Get(name, AttributeProto.Types.AttributeType.Float).F : fallback;
            public long[]? Ints(string name) => Has(name) ? Get(name, AttributeProto.Types.AttributeType.Ints).Ints.ToArray() : null;
            public string String(string name, string fallback) => Has(name) ? Get(name, AttributeProto.Types.AttributeType.String).S.ToStringUtf8() : fallback;
            public float[]? Floats(string name) => Has(name) ? Get(name, AttributeProto.Types.AttributeType.Floats).Floats.ToArray() : null;
            public TensorProto? Tensor(string name) => Has(name) ? Get(name, AttributeProto.Types.AttributeType.Tensor).T : null;
        }

        /// <summary>"consumed_inputs" is a pre-opset-6 memory hint without effect on the result; accept it there.</summary>
        private string[] Legacy(params string[] known) => Opset < 6 ? [.. known, "consumed_inputs"] : known;

        private TinyOdlException BadAttribute(OnnxNode n, string name, object value, string why) =>
            Fail(n, $"attribute {name}={value} is not supported; {why}");

        private T Build<T>(OnnxNode n, Func<T> build)
        {
            try { return build(); }
            catch (TinyOdlException e) { throw Fail(n, e.Message); }
        }

        // ---------------------------------------------------------------- ops

        private void Map(OnnxNode n)
        {
            switch (n.Op)
            {
                case "Gemm": Gemm(n); break;
                case "MatMul": MatMul(n); break;
                case "Add":
                    if (n.Proto.Input.Count == 2 && n.Proto.Input.All(_values.ContainsKey)) ResidualAdd(n);
                    else throw Fail(n, WhyAddIsNotABias(n));
                    break;
                case "LeakyRelu":
                {
                    var at = new Attributes(this, n, Legacy("alpha"));
                    float alpha = at.Float("alpha", 0.01f);
                    var x = Dynamic(n, 0, "X");
                    var y = Build(n, () => _builder.LeakyRelu(NodeName(n), x.Graph, alpha));
                    Define(n, 0, x with { Graph = y });
                    break;
                }
                case "Relu":
                case "Sigmoid":
                {
                    _ = new Attributes(this, n, Legacy());
                    var x = Dynamic(n, 0, "X");
                    var y = Build(n, () => n.Op == "Relu" ? _builder.Relu(NodeName(n), x.Graph) : _builder.Sigmoid(NodeName(n), x.Graph));
                    Define(n, 0, x with { Graph = y });
                    break;
                }
                case "Identity":
                    _ = new Attributes(this, n);
                    Alias(n, 0);
                    break;
                case "Dropout": Dropout(n); break;
                case "Conv": Conv(n); break;
                case "MaxPool": Pool(n, PoolKind.Max); break;
                case "AveragePool": Pool(n, PoolKind.Average); break;
                case "GlobalAveragePool": GlobalAveragePool(n); break;
                case "BatchNormalization": BatchNormalization(n); break;
                case "Flatten": Flatten(n); break;
                case "Reshape": Reshape(n); break;
                case "Constant": ConstantNode(n); break;
                case "Transpose": Transpose(n); break;
                case "Softmax" or "LogSoftmax": FinalSoftmax(n); break;
                default: throw Fail(n, $"operator not supported yet; supported: {SupportedList}");
            }
        }

        private void Define(OnnxNode n, int output, Sym value)
        {
            var name = n.Out(output);
            if (name.Length == 0) throw Fail(n, $"output {output} has no name");
            _values[name] = value;
        }

        /// <summary>Output 0 is input 0 (Identity, inference Dropout): the same value, constant or computed.</summary>
        private void Alias(OnnxNode n, int input)
        {
            var name = n.In(input);
            if (_constants.TryGetValue(name, out var t)) { _constants[n.Out(0)] = t; return; }
            Define(n, 0, Dynamic(n, input, "X"));
        }

        /// <summary>The number of features K of a 2-D operand whose rows are the batch ([N, K], or [1, K] without batch).</summary>
        private int RowFeatures(OnnxNode n, Sym a, string role, string op)
        {
            if (a.Batched && a.Sample.Length == 1) return a.Sample[0];
            if (!a.Batched && a.Sample.Length == 2 && a.Sample[0] == 1) return a.Sample[1];
            if (!a.Batched && a.Sample.Length == 1 && op == "MatMul") return a.Sample[0];
            throw Fail(n, $"input {role} has shape {FullShape(a)}; {op} needs {(op == "MatMul" ? "a vector or " : "")}a 2-D input whose rows are the batch " +
                "(one sample is a vector of features); flatten it first (Flatten with axis=1)");
        }

        /// <summary>The output of a Linear layer in ONNX terms: [N, out], or [1, out] / [out] like an unbatched input.</summary>
        private static int[] RowOutput(Sym a, int outFeatures) =>
            a.Batched ? [outFeatures] : a.Sample.Length == 2 ? [1, outFeatures] : [outFeatures];

        private void Gemm(OnnxNode n)
        {
            var at = new Attributes(this, n, Opset < 7 ? ["alpha", "beta", "transA", "transB", "broadcast"] : ["alpha", "beta", "transA", "transB"]);
            float alpha = at.Float("alpha", 1f), beta = at.Float("beta", 1f);
            long transA = at.Int("transA", 0), transB = at.Int("transB", 0), broadcast = at.Int("broadcast", 0);
            if (alpha != 1f) throw BadAttribute(n, "alpha", alpha, "supported: alpha=1 (Y = A B + C)");
            if (transA != 0) throw BadAttribute(n, "transA", transA, "supported: transA=0 (the rows of A are the batch)");
            if (transB is not (0 or 1)) throw BadAttribute(n, "transB", transB, "supported: transB=0 or transB=1");
            if (broadcast is not (0 or 1)) throw BadAttribute(n, "broadcast", broadcast, "supported: broadcast=0 or broadcast=1");
            bool hasC = n.In(2).Length > 0;
            if (hasC && beta != 1f && beta != 0f) throw BadAttribute(n, "beta", beta, "supported: beta=1 (C is a bias) or beta=0 (C is ignored)");

            var a = Dynamic(n, 0, "A");
            int k = RowFeatures(n, a, "A", "Gemm");
            var b = Floats(n, Constant(n, 1, "B"), "B");
            if (b.Dims.Count != 2) throw Fail(n, $"input B {b} must be a 2-D weight matrix");
            var (weight, outFeatures) = WeightFromB(n, b, k, transposed: transB == 1);
            float[]? bias = null;
            if (hasC && beta == 1f)
            {
                var c = Floats(n, Constant(n, 2, "C"), "C");
                bias = BiasValues(c, outFeatures, out var why) ?? throw Fail(n, $"input C {c}: {why}");
            }
            Linear(n, a, k, outFeatures, weight, bias);
        }

        private void MatMul(OnnxNode n)
        {
            _ = new Attributes(this, n);
            var a = Dynamic(n, 0, "A");
            int k = RowFeatures(n, a, "A", "MatMul");
            var b = Floats(n, Constant(n, 1, "B"), "B");
            if (b.Dims.Count != 2) throw Fail(n, $"input B {b} must be a 2-D weight matrix [K, N]");
            var (weight, outFeatures) = WeightFromB(n, b, k, transposed: false);
            Linear(n, a, k, outFeatures, weight, null);
        }

        /// <summary>Our Linear weight is [out][in]: B [K, N] is transposed, B [N, K] (Gemm transB=1) is taken as is.</summary>
        private (float[] Weight, int Out) WeightFromB(OnnxNode n, OnnxTensor b, int k, bool transposed)
        {
            int rows = (int)b.Dims[0], cols = (int)b.Dims[1];
            int inDim = transposed ? cols : rows, outDim = transposed ? rows : cols;
            if (inDim != k)
                throw Fail(n, $"shape mismatch: input B {b}{(transposed ? " (transB=1)" : "")} has {inDim} input features but A has {k}");
            if (outDim <= 0) throw Fail(n, $"input B {b} has no output features");
            if (transposed) return ((float[])b.Values.Clone(), outDim);
            var w = new float[outDim * k];
            for (int o = 0; o < outDim; o++)
                for (int i = 0; i < k; i++)
                    w[o * k + i] = b.Values[i * outDim + o];
            return (w, outDim);
        }

        /// <summary>One bias value per output: shapes [N] or [1, N] (or [1] / a scalar when N = 1); null and why otherwise.</summary>
        private static float[]? BiasValues(OnnxTensor c, int outFeatures, out string why)
        {
            why = "";
            var dims = c.Dims;
            bool perOutput = (dims.Count == 1 && dims[0] == outFeatures) || (dims.Count == 2 && dims[0] == 1 && dims[1] == outFeatures);
            if (perOutput || (outFeatures == 1 && c.Elements == 1)) return (float[])c.Values.Clone();
            why = c.Elements == 1
                ? $"a bias of {c.Elements} value broadcast over {outFeatures} outputs is not supported; TinyOdl biases have one trainable value per output ([{outFeatures}])"
                : $"a bias must have shape [{outFeatures}] or [1, {outFeatures}] (one value per output); other broadcasts are not supported";
            return null;
        }

        private void Linear(OnnxNode n, Sym a, int k, int outFeatures, float[] weight, float[]? bias)
        {
            string output = n.Out(0);
            OnnxNode? add = null;
            if (bias is null && FusibleAdd(n, output, a, outFeatures, out var addBias) is { } fuse)
            {
                add = fuse;
                bias = addBias;
            }
            var name = NodeName(n);
            var y = Build(n, () => _builder.Linear(name, a.Graph, outFeatures, bias: bias is not null, weight: weight, biasValues: bias));
            var sym = new Sym(y, RowOutput(a, outFeatures), a.Batched);
            Define(n, 0, sym);
            if (add is not null)
            {
                _fused.Add(add.Index);
                Define(add, 0, sym);
            }
            else if (bias is null) _biasless[output] = n;
        }

        /// <summary>The Add right after a bias-less Gemm/MatMul that adds a bias to it, if it can be folded into the layer.</summary>
        private OnnxNode? FusibleAdd(OnnxNode producer, string output, Sym a, int outFeatures, out float[]? bias)
        {
            bias = null;
            if (_graphOutputs.Contains(output)) return null;
            var consumers = Consumers(output).ToList();
            if (consumers.Count != 1 || consumers[0].Op != "Add" || !IsDefaultDomain(consumers[0].Proto.Domain)) return null;
            var add = consumers[0];
            if (BiasOfAdd(add, output, RowOutput(a, outFeatures).Length + (a.Batched ? 1 : 0), outFeatures, out bias) is not null) return null;
            return add;
        }

        /// <summary>Why an Add is not the bias of the layer producing <paramref name="layerOutput"/> (null: it is, and <paramref name="bias"/> holds it).</summary>
        private string? BiasOfAdd(OnnxNode add, string layerOutput, int outRank, int outFeatures, out float[]? bias)
        {
            bias = null;
            if (add.Proto.Input.Count != 2) return "Add needs two inputs";
            int layerSide = add.In(0) == layerOutput ? 0 : add.In(1) == layerOutput ? 1 : -1;
            if (layerSide < 0) return "it does not read the layer's output";
            string biasName = add.In(1 - layerSide);
            if (!_constants.TryGetValue(biasName, out var t))
                return _otherInputs.Contains(biasName) || _values.ContainsKey(biasName)
                    ? $"its other input ('{biasName}') is not an initializer, so it is not a bias"
                    : $"its other input ('{biasName}') is not produced by an earlier node, an initializer or the graph input";
            OnnxTensor c;
            try { c = OnnxTensors.ToFloat(t, $"initializer '{biasName}'"); }
            catch (TinyOdlException e) { return e.Message; }
            var names = add.Proto.Attribute.Select(x => x.Name).ToList();
            if (Opset < 7)
            {
                var unknown = names.FirstOrDefault(x => x is not ("broadcast" or "axis" or "consumed_inputs"));
                if (unknown is not null) return $"attribute '{unknown}' is not supported";
                var attrs = add.Proto.Attribute.ToDictionary(x => x.Name);
                long broadcast = attrs.TryGetValue("broadcast", out var bAttr) ? bAttr.I : 0;
                bool sameShape = c.Dims.Count == outRank;
                if (!sameShape && broadcast != 1) return $"attribute broadcast={broadcast}: a bias of shape {OnnxTensors.FormatDims(c.Dims)} needs broadcast=1 before opset 7";
                if (attrs.TryGetValue("axis", out var axAttr) && !sameShape && axAttr.I != outRank - c.Dims.Count && axAttr.I != -c.Dims.Count)
                    return $"attribute axis={axAttr.I} is not supported: the bias must line up with the last axis (axis={outRank - c.Dims.Count})";
            }
            else if (names.Count > 0) return $"attribute '{names[0]}' is not supported (Add takes no attributes since opset 7)";
            bias = BiasValues(c, outFeatures, out var why);
            return bias is null ? $"input '{biasName}' {OnnxTensors.FormatDims(c.Dims)}: {why}" : null;
        }

        /// <summary>Two computed tensors (a residual connection), broadcast per sample as ONNX allows: the graph's add node.</summary>
        private void ResidualAdd(OnnxNode n)
        {
            Sym a = Dynamic(n, 0, "A"), b = Dynamic(n, 1, "B");
            // Batched tensors broadcast in ONNX with the batch dimension included: only equal ranks keep N against N.
            if (a.Batched != b.Batched || (!a.Sample.SequenceEqual(b.Sample)
                    && ((a.Batched && a.Sample.Length != b.Sample.Length) || ModelBuilder.Broadcast(a.Graph.Shape, b.Graph.Shape) is null)))
                throw Fail(n, $"adds computed tensors of shapes {FullShape(a)} and {FullShape(b)}, which do not broadcast per sample");
            if (!a.Sample.SequenceEqual(b.Sample) && Opset < 7)
                throw Fail(n, "broadcasting two computed tensors needs opset 7 or newer");
            // Before opset 7 broadcasting was opt-in: with equal shapes the attributes change nothing.
            _ = new Attributes(this, n, Opset < 7 ? ["broadcast", "axis", "consumed_inputs"] : []);
            var y = Build(n, () => _builder.Add(NodeName(n), a.Graph, b.Graph));
            Define(n, 0, a with { Graph = y, Sample = [.. y.Shape.Dims] });
        }

        private string WhyAddIsNotABias(OnnxNode add)
        {
            const string Supported = "Add of a constant is supported only as the bias of a Gemm or MatMul (a 1-D initializer of one value per output, added to the layer's output), which TinyOdl folds into a Linear layer";
            if (add.Proto.Input.Count != 2) return $"Add needs two inputs, has {add.Proto.Input.Count}";
            var dynamicInputs = add.Proto.Input.Where(s => !_constants.ContainsKey(s)).ToList();
            if (dynamicInputs.Count == 0) return $"{Supported}; here it adds two constants";
            if (dynamicInputs.FirstOrDefault(i => !_values.ContainsKey(i)) is { } missing)
                return WhyMissing(missing, add.In(0) == missing ? "A" : "B");
            var input = dynamicInputs[0];
            if (!_biasless.TryGetValue(input, out var layer))
            {
                string from = _producer.TryGetValue(input, out int p) ? $"the output of node '{_nodes[p].DisplayName}' ({_nodes[p].Op})" : $"the graph input '{input}'";
                return $"{Supported}; here it adds to {from}{(_producer.TryGetValue(input, out int q) && _nodes[q].Op == "Gemm" ? ", which already has its bias C" : "")}";
            }
            var others = Consumers(input).Where(c => c != add).Select(c => $"'{c.DisplayName}'").ToList();
            if (others.Count > 0 || _graphOutputs.Contains(input))
                return $"{Supported}; here the output of node '{layer.DisplayName}' is also used by {(others.Count > 0 ? $"node {string.Join(", ", others)}" : "the graph output")}, so the Add cannot be folded into it";
            var sym = _values[input];
            int outFeatures = sym.Graph.Elements;
            return BiasOfAdd(add, input, sym.Sample.Length + (sym.Batched ? 1 : 0), outFeatures, out _) is { } why
                ? $"cannot be folded into node '{layer.DisplayName}' as its bias: {why}"
                : Supported;
        }

        private void Dropout(OnnxNode n)
        {
            var at = new Attributes(this, n, Opset < 7 ? ["ratio", "is_test", "consumed_inputs"] : ["ratio", "seed"]);
            if (Opset < 7 && at.Int("is_test", 0) == 0)
                throw BadAttribute(n, "is_test", at.Int("is_test", 0),
                    "before opset 7 Dropout runs in training mode unless is_test=1; export the model in eval mode (TinyOdl applies Dropout as identity)");
            if (n.In(2).Length > 0)
            {
                var name = n.In(2);
                if (!_constants.TryGetValue(name, out var t))
                    throw Fail(n, $"input training_mode ('{name}') must be a constant false; only inference Dropout (identity) is supported");
                if (BoolValue(t) != false)
                    throw Fail(n, $"input training_mode ('{name}') is true; only inference Dropout (identity) is supported");
            }
            var mask = n.Out(1);
            if (mask.Length > 0 && (_graphOutputs.Contains(mask) || Consumers(mask).Any()))
                throw Fail(n, $"its mask output '{mask}' is used; only inference Dropout (output = input) is supported");
            Alias(n, 0);
        }

        private static bool? BoolValue(TensorProto t)
        {
            if (t.DataType != (int)TensorProto.Types.DataType.Bool) return null;
            if (!t.RawData.IsEmpty) return t.RawData.Length == 1 ? t.RawData[0] != 0 : null;
            return t.Int32Data.Count == 1 ? t.Int32Data[0] != 0 : null;
        }

        private void Flatten(OnnxNode n)
        {
            var at = new Attributes(this, n, "axis");
            var x = Dynamic(n, 0, "input");
            long[] full = FullDims(x);
            long axis = at.Int("axis", 1);
            int rank = full.Length;
            if (axis < 0) axis += rank;
            if (axis < 0 || axis > rank) throw BadAttribute(n, "axis", at.Int("axis", 1), $"the input {FullShape(x)} has rank {rank}");
            int inner = Product(full.Skip((int)axis));
            if (!x.Batched)
            {
                int outer = Product(full.Take((int)axis));
                View(n, x, [outer, inner], batched: false);
                return;
            }
            // Batched: output [N * d1 ... d(axis-1), rest]. Only "everything but the batch" keeps samples apart.
            bool keepsBatch = axis >= 1 && Product(full.Skip(1).Take((int)axis - 1)) == 1;
            if (keepsBatch || (axis == 0 && _batch == 1)) { View(n, x, [inner], batched: true); return; }
            throw BadAttribute(n, "axis", at.Int("axis", 1),
                $"with the batch dimension first in {FullShape(x)}, only axis=1 (flatten each sample) keeps samples apart");
        }

        private void Reshape(OnnxNode n)
        {
            long[] target;
            bool allowZero;
            if (Opset < 5)
            {
                var at = new Attributes(this, n, "shape", "consumed_inputs");
                target = at.Ints("shape") ?? throw Fail(n, "attribute 'shape' is missing");
                allowZero = false;
            }
            else
            {
                var at = new Attributes(this, n, Opset >= 14 ? ["allowzero"] : []);
                allowZero = at.Int("allowzero", 0) != 0;
                var shapeTensor = Constant(n, 1, "shape");
                target = OnnxTensors.ToInt64(shapeTensor, $"{_file}: {n.Where}: input shape ('{n.In(1)}')");
            }
            var x = Dynamic(n, 0, "data");
            string targetText = OnnxTensors.FormatDims(target);
            if (allowZero && target.Contains(0)) throw Fail(n, $"shape {targetText} with allowzero=1 makes an empty tensor, which is not supported");
            if (target.Count(d => d == -1) > 1 || target.Any(d => d < -1)) throw Fail(n, $"shape {targetText} is invalid (at most one -1, no other negative values)");

            long[] full = FullDims(x); // batch -1 when symbolic
            if (!x.Batched)
            {
                var dims = Resolve(n, target, full, Product(full), targetText, x);
                View(n, x, dims.Select(d => (int)d).ToArray(), batched: false);
                return;
            }
            int sampleElements = Product(full.Skip(1));
            // The batch dimension must stay first: 0 (copy), -1 (inferred from the rest) or the fixed batch size.
            bool batchKept = target.Length >= 2 && (target[0] == 0 || target[0] == -1 || (_batch is { } b && target[0] == b));
            if (batchKept)
            {
                var rest = target.Skip(1).ToArray();
                var restFull = full.Skip(1).ToArray();
                if (target[0] == -1 && rest.Contains(-1)) throw Fail(n, $"shape {targetText} is invalid (at most one -1)");
                var dims = Resolve(n, rest, restFull, sampleElements, targetText, x, offset: 1);
                View(n, x, dims.Select(d => (int)d).ToArray(), batched: true);
                return;
            }
            if (_batch == 1)
            {
                // One sample: any reshape keeps it whole; the result has no batch dimension any more.
                var dims = Resolve(n, target, full, sampleElements, targetText, x);
                View(n, x, dims.Select(d => (int)d).ToArray(), batched: false);
                return;
            }
            throw Fail(n, $"shape {targetText} does not keep the batch dimension first (0, -1 or {_batchLabel}) of {FullShape(x)}, so it would mix samples; reshape each sample, e.g. [0, -1]");
        }

        /// <summary>
        /// Output 0 is the elements of <paramref name="x"/> seen with the per-sample shape <paramref name="sample"/>: a
        /// reshape node (a view, no kernel) when that changes the model value's shape (e.g. [C, H, W] -> [C*H*W]), else x itself.
        /// </summary>
        private void View(OnnxNode n, Sym x, int[] sample, bool batched)
        {
            var shape = new Shape(sample);
            var graph = shape == x.Graph.Shape ? x.Graph : Build(n, () => _builder.Reshape(NodeName(n), x.Graph, shape));
            Define(n, 0, new Sym(graph, sample, batched));
        }

        /// <summary>Target dims with 0 (copy) and -1 (inferred) resolved against <paramref name="full"/>, checked to hold <paramref name="elements"/>.</summary>
        private long[] Resolve(OnnxNode n, long[] target, long[] full, int elements, string targetText, Sym x, int offset = 0)
        {
            var dims = new long[target.Length];
            long known = 1;
            int infer = -1;
            for (int i = 0; i < target.Length; i++)
            {
                long d = target[i];
                if (d == 0)
                {
                    if (i >= full.Length) throw Fail(n, $"shape {targetText}: 0 at index {i + offset} copies a dimension the input {FullShape(x)} does not have");
                    d = full[i];
                }
                if (d == -1) { infer = i; continue; }
                dims[i] = d;
                known = known <= elements ? known * Math.Min(d, elements + 1L) : known; // no overflow: stops growing past elements
            }
            if (infer >= 0)
            {
                if (known == 0 || elements % known != 0)
                    throw Fail(n, $"shape mismatch: shape {targetText} cannot hold the {elements} elements of each sample of {FullShape(x)}");
                dims[infer] = elements / known;
                known *= dims[infer];
            }
            if (known != elements)
                throw Fail(n, $"shape mismatch: shape {targetText} holds {dims.Aggregate(1.0, (p, d) => p * d):G6} elements per sample but the input {FullShape(x)} has {elements}");
            if (dims.Length == 0) return [1];
            return dims;
        }

        private long[] FullDims(Sym s) =>
            (s.Batched ? [_batch ?? -1] : Array.Empty<long>()).Concat(s.Sample.Select(d => (long)d)).ToArray();

        private static int Product(IEnumerable<long> dims) => checked((int)dims.Aggregate(1L, (a, b) => a * b));

        private void ConstantNode(OnnxNode n)
        {
            var at = new Attributes(this, n, "value", "value_float", "value_floats", "value_int", "value_ints");
            var given = n.Proto.Attribute.Select(a => a.Name).ToList();
            if (given.Count != 1) throw Fail(n, $"needs exactly one value attribute, has {given.Count}");
            var t = at.Tensor("value") is { } v ? v.Clone() : new TensorProto();
            if (at.Floats("value_floats") is { } fs) { t.DataType = (int)TensorProto.Types.DataType.Float; t.Dims.Add(fs.Length); t.FloatData.AddRange(fs); }
            if (at.Has("value_float")) { t.DataType = (int)TensorProto.Types.DataType.Float; t.FloatData.Add(at.Float("value_float", 0f)); }
            if (at.Ints("value_ints") is { } ints) { t.DataType = (int)TensorProto.Types.DataType.Int64; t.Dims.Add(ints.Length); t.Int64Data.AddRange(ints); }
            if (at.Has("value_int")) { t.DataType = (int)TensorProto.Types.DataType.Int64; t.Int64Data.Add(at.Int("value_int", 0)); }
            t.Name = n.Out(0);
            _constants[n.Out(0)] = t;
        }

        private void Transpose(OnnxNode n)
        {
            var at = new Attributes(this, n, "perm");
            var name = n.In(0);
            if (!_constants.TryGetValue(name, out var t))
            {
                if (_values.ContainsKey(name))
                    throw Fail(n, $"input '{name}' is computed from the model input; TinyOdl transposes only initializers (folded at import)");
                throw Missing(n, name, "data");
            }
            var x = Floats(n, t, "data");
            var perm = at.Ints("perm") ?? Enumerable.Range(0, x.Dims.Count).Reverse().Select(i => (long)i).ToArray();
            if (x.Dims.Count != 2 || perm.Length != 2 || !perm.Order().SequenceEqual(new long[] { 0, 1 }))
                throw Fail(n, $"only 2-D initializers can be transposed (perm [1, 0]); here {x} with perm {OnnxTensors.FormatDims(perm)}");
            var result = new TensorProto { Name = n.Out(0), DataType = (int)TensorProto.Types.DataType.Float };
            if (perm[0] == 0) { result.Dims.AddRange(x.Dims); result.FloatData.AddRange(x.Values); }
            else
            {
                int rows = (int)x.Dims[0], cols = (int)x.Dims[1];
                result.Dims.AddRange([cols, rows]);
                var v = new float[rows * cols];
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++)
                        v[c * rows + r] = x.Values[r * cols + c];
                result.FloatData.AddRange(v);
            }
            _constants[n.Out(0)] = result;
        }

        /// <summary>A final Softmax/LogSoftmax over each sample is the first half of softmax_cross_entropy: fold it into the loss.</summary>
        private void FinalSoftmax(OnnxNode n)
        {
            var at = new Attributes(this, n, "axis");
            if (!_graphOutputs.Contains(n.Out(0)))
                throw Fail(n, "supported only as the last op of the graph, where TinyOdl folds it into the softmax_cross_entropy loss");
            if (_options.Loss == LossKind.MeanSquaredError)
                throw Fail(n, "supported only when folded into the softmax_cross_entropy loss, but the mse loss was requested");
            var x = Dynamic(n, 0, "input");
            long[] full = FullDims(x);
            int rank = full.Length;
            long axisAttr = at.Int("axis", Opset < 13 ? 1 : -1);
            long axis = axisAttr < 0 ? axisAttr + rank : axisAttr;
            if (axis < 0 || axis >= rank) throw BadAttribute(n, "axis", axisAttr, $"the input {FullShape(x)} has rank {rank}");
            int first = x.Batched ? 1 : 0;
            bool wholeSample = Opset < 13
                // Before opset 13 the input is seen as 2-D [d0 ... d(axis-1), d(axis) ...]: rows must be samples.
                ? axis >= first && Product(full.Skip(first).Take((int)axis - first)) == 1
                // Since opset 13 it normalizes along one axis: the other per-sample dimensions must be 1.
                : axis >= first && full.Skip(first).Where((_, i) => i + first != axis).All(d => d == 1);
            if (!wholeSample)
                throw BadAttribute(n, "axis", axisAttr, $"the loss's softmax covers every element of a sample, and on {FullShape(x)} this one does not");
            _folded = n.Op == "Softmax" ? OnnxFoldedOutput.Softmax : OnnxFoldedOutput.LogSoftmax;
            Define(n, 0, x);
        }

        // ---------------------------------------------------------------- loss and result

        private OnnxBinding Binding(string onnxName, Sym s)
        {
            var dims = (s.Batched ? [_batchLabel] : Array.Empty<string>()).Concat(s.Sample.Select(d => d.ToString())).ToArray();
            return new OnnxBinding(onnxName, dims, s.Batched, new Shape(s.Sample));
        }

        private OnnxImport Finish()
        {
            var output = _graph.Output[0];
            string where = $"graph output '{output.Name}'";
            if (!_values.TryGetValue(output.Name, out var y))
                throw Fail(where, _constants.ContainsKey(output.Name)
                    ? "is a constant; TinyOdl needs an output computed from the input"
                    : "is not produced by any node or input");
            if (y.Graph.Kind != ValueKind.Activation)
            {
                var last = LiveNodes().LastOrDefault();
                string what = _folded != OnnxFoldedOutput.None
                    ? $"after folding the final {_folded} into the softmax_cross_entropy loss nothing is left to train"
                    : "the output is the graph input reshaped or copied, so there is nothing to train";
                throw last is null ? Fail(where, $"is the graph input; {what}") : Fail(last, $"{what}; a model needs at least one Gemm, MatMul, Conv or Relu");
            }
            CheckDeclaredOutput(output, y, where);

            var loss = _options.Loss ?? (_folded != OnnxFoldedOutput.None ? LossKind.SoftmaxCrossEntropy : LossKind.MeanSquaredError);
            Model model;
            try
            {
                if (loss == LossKind.SoftmaxCrossEntropy) _builder.SoftmaxCrossEntropy("loss", y.Graph);
                else _builder.MseLoss("loss", y.Graph);
                model = _builder.Build(_options.Optimizer);
            }
            catch (TinyOdlException e) { throw TinyOdlException.At(_file, e.Message); }

            var doc = new ModelDocument(model, _options.Training, _file);
            string producer = $"{_model.ProducerName} {_model.ProducerVersion}".Trim();
            return new OnnxImport(doc, InputBinding, Binding(output.Name, y), _folded, Opset, producer);
        }

        /// <summary>A declared output shape must agree with what the import computed (a cheap check of the shape logic and the file).</summary>
        private void CheckDeclaredOutput(ValueInfoProto output, Sym y, string where)
        {
            if (output.Type?.ValueCase != TypeProto.ValueOneofCase.TensorType) return;
            var tt = output.Type.TensorType;
            if (tt.ElemType != 0 && tt.ElemType != (int)TensorProto.Types.DataType.Float)
                throw Fail(where, $"element type {OnnxTensors.TypeName(tt.ElemType)} is not supported; TinyOdl imports float32 (FLOAT) models");
            if (tt.Shape is null) return;
            var declared = tt.Shape.Dim;
            var computed = FullDims(y);
            // Symbolic dims (and our symbolic batch) match anything.
            bool agree = declared.Count == computed.Length && declared.Select((d, i) =>
                d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || computed[i] < 0 || d.DimValue == computed[i]).All(b => b);
            if (!agree)
            {
                var text = "[" + string.Join(", ", declared.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue.ToString() : d.DimParam)) + "]";
                throw Fail(where, $"is declared with shape {text} but the graph computes {FullShape(y)}");
            }
        }
    }
}

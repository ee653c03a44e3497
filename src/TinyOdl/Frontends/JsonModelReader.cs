using System.Text.Json;
using TinyOdl.Data;
using TinyOdl.Graph;

namespace TinyOdl.Frontends;

/// <summary>
/// Reads the JSON model format (docs/MODEL_FORMAT.md). Every error names the file and the JSON path of the
/// offending field, e.g. "mlp.json: layers[1] (fc2).out_features: must be a positive integer".
/// </summary>
public static class JsonModelReader
{
    private static readonly string[] Ops = ["linear", "conv2d", "binary_linear", "binary_conv2d", "phm_linear", "phm_conv2d", "max_pool", "average_pool", "global_average_pool", "batch_norm", "flatten", "reshape", "relu", "leaky_relu", "sigmoid", "add"];
    private static readonly string[] Losses = ["softmax_cross_entropy", "mse"];

    /// <param name="precision">Overrides the file's model-wide "precision" (layers that name their own keep it).</param>
    public static ModelDocument Load(string path, Precision? precision = null)
    {
        if (!File.Exists(path)) throw TinyOdlException.At(path, "file not found");
        string text;
        try { text = File.ReadAllText(path); }
        catch (IOException e) { throw TinyOdlException.At(path, e.Message); }
        return Parse(text, path, precision);
    }

    public static ModelDocument Parse(string json, string path, Precision? precision = null)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException e) { throw TinyOdlException.At(path, $"invalid JSON at line {e.LineNumber + 1}, column {e.BytePositionInLine + 1} ({Reason(e)})"); }
        using (doc)
        {
            var r = new Reader(path, Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", precision);
            return r.Document(new Field(doc.RootElement, ""));
        }
    }

    /// <summary>System.Text.Json's reason without its own position suffix ("... LineNumber: 3 | ...").</summary>
    private static string Reason(JsonException e)
    {
        var m = e.Message;
        int cut = m.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut < 0) cut = m.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        return (cut >= 0 ? m[..cut] : m).TrimEnd('.', ' ');
    }

    /// <summary>A JSON element with its path, for error messages.</summary>
    private readonly record struct Field(JsonElement Element, string Path)
    {
        public Field Child(string name) => new(Element.GetProperty(name), Path.Length == 0 ? name : $"{Path}.{name}");
        public bool Has(string name) => Element.ValueKind == JsonValueKind.Object && Element.TryGetProperty(name, out _);
    }

    private sealed class Reader(string file, string baseDir, Precision? precisionOverride)
    {
        private TinyOdlException Error(Field f, string why) =>
            TinyOdlException.At(f.Path.Length == 0 ? file : $"{file}: {f.Path}", why);
        private TinyOdlException Error(string path, string why) => TinyOdlException.At($"{file}: {path}", why);

        public ModelDocument Document(Field root)
        {
            RequireObject(root, ["name", "seed", "precision", "input", "layers", "loss", "optimizer", "training", "$schema", "description"]);
            string name = String(Required(root, "name"));
            ulong seed = root.Has("seed") ? (ulong)Integer(root.Child("seed"), 0, long.MaxValue) : 1;
            var input = Required(root, "input");
            RequireObject(input, ["name", "shape"]);
            string inputName = input.Has("name") ? String(input.Child("name")) : "input";
            var shape = ShapeOf(Required(input, "shape"));

            ModelBuilder b;
            try { b = new ModelBuilder(name, shape, seed, inputName); }
            catch (TinyOdlException e) { throw Error(root.Child("name"), e.Message); }
            b.DefaultPrecision = precisionOverride ?? (root.Has("precision") ? PrecisionOf(root.Child("precision")) : Precision.Fp32);

            var layers = Required(root, "layers");
            if (layers.Element.ValueKind != JsonValueKind.Array || layers.Element.GetArrayLength() == 0)
                throw Error(layers, "must be a non-empty array of layers");
            Value current = b.Input;
            int index = 0;
            foreach (var el in layers.Element.EnumerateArray())
            {
                var layer = new Field(el, $"layers[{index++}]");
                current = Layer(b, layer, current);
            }

            var loss = Required(root, "loss");
            RequireObject(loss, ["op", "name"]);
            string lossOp = String(Required(loss, "op"));
            string lossName = loss.Has("name") ? String(loss.Child("name")) : "loss";
            Wrap(loss, () => _ = lossOp switch
            {
                "softmax_cross_entropy" => b.SoftmaxCrossEntropy(lossName, current),
                "mse" => b.MseLoss(lossName, current),
                _ => throw Error(loss.Child("op"), $"unknown loss '{lossOp}'; supported: {string.Join(", ", Losses)}"),
            });

            var opt = Required(root, "optimizer");
            RequireObject(opt, ["op", "learning_rate", "momentum", "weight_decay", "loss_scale"]);
            string optOp = String(Required(opt, "op"));
            if (optOp != "sgd") throw Error(opt.Child("op"), $"unknown optimizer '{optOp}'; supported: sgd");
            var sgd = new SgdOptimizer(
                Float(Required(opt, "learning_rate")),
                opt.Has("momentum") ? Float(opt.Child("momentum")) : 0f,
                opt.Has("weight_decay") ? Float(opt.Child("weight_decay")) : 0f,
                opt.Has("loss_scale") ? Float(opt.Child("loss_scale")) : 1f);
            Model model;
            try { model = b.Build(sgd); }
            catch (TinyOdlException e) { throw TinyOdlException.At(file, e.Message); }

            var training = root.Has("training") ? Training(root.Child("training")) : new TrainingSettings(null);
            return new ModelDocument(model, training, file);
        }

        private Value Layer(ModelBuilder b, Field layer, Value previous)
        {
            if (layer.Element.ValueKind != JsonValueKind.Object) throw Error(layer, "must be an object");
            string op = String(Required(layer, "op"));
            string name = layer.Has("name") ? String(layer.Child("name")) : $"{op}{layer.Path[7..^1]}";
            var at = new Field(layer.Element, $"{layer.Path} ({name})");
            Value input = previous;
            if (layer.Has("input"))
            {
                var inputField = new Field(layer.Element.GetProperty("input"), $"{at.Path}.input");
                string inputName = String(inputField);
                try { input = b[inputName]; }
                catch (TinyOdlException) { throw Error(inputField, $"no layer or input named '{inputName}' before this layer"); }
            }
            switch (op)
            {
                case "linear":
                case "binary_linear":
                {
                    RequireObject(at, ["op", "name", "input", "precision", "out_features", "in_features", "bias", "trainable", "weights",
                        .. op == "binary_linear" ? new[] { "mst", "bop" } : []]);
                    int outF = (int)Integer(Required(at, "out_features"), 1, 1 << 24);
                    if (at.Has("in_features"))
                    {
                        int inF = (int)Integer(at.Child("in_features"), 1, 1 << 24);
                        if (inF != input.Elements)
                            throw Error(at.Child("in_features"), $"shape mismatch: in_features is {inF} but the input '{input.Name}' has {input.Elements} elements {input.Shape}");
                    }
                    bool bias = !at.Has("bias") || Bool(at.Child("bias"));
                    var (trainW, trainB) = Trainable(at);
                    float[]? w = null, bv = null;
                    if (at.Has("weights"))
                    {
                        var ws = at.Child("weights");
                        RequireObject(ws, ["weight", "bias"]);
                        if (ws.Has("weight")) w = FloatArray(ws.Child("weight"), outF * input.Elements);
                        if (ws.Has("bias")) bv = FloatArray(ws.Child("bias"), outF);
                    }
                    var precision = LayerPrecision(at);
                    return Wrap(at, () => op == "linear"
                        ? b.Linear(name, input, outF, bias, trainW, trainB, w, bv, precision)
                        : b.BinaryLinear(name, input, outF, bias, trainW, trainB, w, bv, precision, Mst(at), Bop(at)));
                }
                case "conv2d":
                case "binary_conv2d":
                {
                    RequireObject(at, ["op", "name", "input", "precision", "out_channels", "in_channels", "kernel_size", "stride", "padding", "groups", "bias", "trainable", "weights",
                        .. op == "binary_conv2d" ? new[] { "pad_value", "mst", "bop" } : []]);
                    if (input.Shape.Rank != 3)
                        throw Error(at, $"shape mismatch: {op} needs a [channels, height, width] input, but '{input.Name}' is {input.Shape}");
                    int outC = (int)Integer(Required(at, "out_channels"), 1, 1 << 16);
                    if (at.Has("in_channels") && Integer(at.Child("in_channels"), 1, 1 << 16) is var inC && inC != input.Shape[0])
                        throw Error(at.Child("in_channels"), $"shape mismatch: in_channels is {inC} but the input '{input.Name}' has {input.Shape[0]} channels {input.Shape}");
                    var window = WindowOf(at, input, defaultStrideIsKernel: false);
                    int groups = at.Has("groups") ? (int)Integer(at.Child("groups"), 0, 1 << 16) : 1;
                    bool bias = !at.Has("bias") || Bool(at.Child("bias"));
                    var (trainW, trainB) = Trainable(at);
                    float[]? w = null, bv = null;
                    if (at.Has("weights"))
                    {
                        var ws = at.Child("weights");
                        RequireObject(ws, ["weight", "bias"]);
                        if (groups > 0 && ws.Has("weight")) w = FloatArray(ws.Child("weight"), outC * (input.Shape[0] / groups) * window.KernelArea);
                        if (ws.Has("bias")) bv = FloatArray(ws.Child("bias"), outC);
                    }
                    var precision = LayerPrecision(at);
                    if (op == "conv2d") return Wrap(at, () => b.Conv2d(name, input, outC, window, groups, bias, trainW, trainB, w, bv, precision));
                    var padValue = at.Has("pad_value") ? Integer(at.Child("pad_value"), 0, 1) : 0;
                    return Wrap(at, () => b.BinaryConv2d(name, input, outC, window, groups, bias, padValue == 1 ? BinaryPadding.One : BinaryPadding.Zero,
                        trainW, trainB, w, bv, precision, Mst(at), Bop(at)));
                }
                case "phm_linear":
                case "phm_conv2d":
                {
                    bool conv = op == "phm_conv2d";
                    RequireObject(at, conv
                        ? ["op", "name", "input", "precision", "out_channels", "in_channels", "kernel_size", "stride", "padding", "n", "evaluation", "bias", "trainable", "weights"]
                        : ["op", "name", "input", "precision", "out_features", "in_features", "n", "evaluation", "bias", "trainable", "weights"]);
                    if (conv && input.Shape.Rank != 3)
                        throw Error(at, $"shape mismatch: phm_conv2d needs a [channels, height, width] input, but '{input.Name}' is {input.Shape}");
                    int outCount = (int)Integer(Required(at, conv ? "out_channels" : "out_features"), 1, 1 << 24);
                    string inField = conv ? "in_channels" : "in_features";
                    int inCount = conv ? input.Shape[0] : input.Elements;
                    if (at.Has(inField) && Integer(at.Child(inField), 1, 1 << 24) is var declared && declared != inCount)
                        throw Error(at.Child(inField), $"shape mismatch: {inField} is {declared} but the input '{input.Name}' has {inCount}");
                    int n = (int)Integer(Required(at, "n"), 1, 1 << 10);
                    var window = conv ? WindowOf(at, input, defaultStrideIsKernel: false) : null;
                    bool bias = !at.Has("bias") || Bool(at.Child("bias"));
                    var (trainA, trainF, trainB) = PhmTrainable(at);
                    float[]? a = null, f = null, bv = null;
                    if (at.Has("weights"))
                    {
                        var ws = at.Child("weights");
                        RequireObject(ws, ["a", "f", "bias"]);
                        bool divisible = inCount % n == 0 && outCount % n == 0;
                        if (ws.Has("a")) a = FloatArray(ws.Child("a"), n * n * n);
                        if (ws.Has("f") && divisible) f = FloatArray(ws.Child("f"), outCount * inCount / n * (window?.KernelArea ?? 1));
                        if (ws.Has("bias")) bv = FloatArray(ws.Child("bias"), outCount);
                    }
                    var precision = LayerPrecision(at);
                    var evaluation = at.Has("evaluation") ? Evaluation(at.Child("evaluation")) : PhmEvaluation.Auto;
                    return Wrap(at, () => conv
                        ? b.PhmConv2d(name, input, outCount, n, window!, bias, trainA, trainF, trainB, a, f, bv, precision, evaluation)
                        : b.PhmLinear(name, input, outCount, n, bias, trainA, trainF, trainB, a, f, bv, precision, evaluation));
                }
                case "max_pool":
                case "average_pool":
                {
                    RequireObject(at, ["op", "name", "input", "precision", "kernel_size", "stride", "padding", "count_include_pad"]);
                    if (input.Shape.Rank != 3)
                        throw Error(at, $"shape mismatch: {op} needs a [channels, height, width] input, but '{input.Name}' is {input.Shape}");
                    if (op == "max_pool" && at.Has("count_include_pad")) throw Error(at.Child("count_include_pad"), "only average_pool has this field");
                    var window = WindowOf(at, input, defaultStrideIsKernel: true);
                    bool includePad = at.Has("count_include_pad") && Bool(at.Child("count_include_pad"));
                    var p = LayerPrecision(at);
                    return Wrap(at, () => b.Pool(name, input, op == "max_pool" ? PoolKind.Max : PoolKind.Average, window, includePad, p));
                }
                case "global_average_pool":
                {
                    RequireObject(at, ["op", "name", "input", "precision"]);
                    var p = LayerPrecision(at);
                    return Wrap(at, () => b.GlobalAveragePool(name, input, p));
                }
                case "batch_norm":
                {
                    RequireObject(at, ["op", "name", "input", "precision", "epsilon", "trainable", "weights"]);
                    float eps = at.Has("epsilon") ? Float(at.Child("epsilon")) : 1e-5f;
                    var (trainScale, trainShift) = Trainable(at);
                    int c = input.Shape[0];
                    float[]? scale = null, shift = null, mean = null, variance = null;
                    if (at.Has("weights"))
                    {
                        var ws = at.Child("weights");
                        RequireObject(ws, ["weight", "bias", "mean", "var"]);
                        if (ws.Has("weight")) scale = FloatArray(ws.Child("weight"), c);
                        if (ws.Has("bias")) shift = FloatArray(ws.Child("bias"), c);
                        if (ws.Has("mean")) mean = FloatArray(ws.Child("mean"), c);
                        if (ws.Has("var")) variance = FloatArray(ws.Child("var"), c);
                    }
                    var p = LayerPrecision(at);
                    return Wrap(at, () => b.BatchNorm(name, input, eps, scale, shift, mean, variance, trainScale, trainShift, p));
                }
                case "flatten":
                    RequireObject(at, ["op", "name", "input"]);
                    return Wrap(at, () => b.Flatten(name, input));
                case "reshape":
                {
                    RequireObject(at, ["op", "name", "input", "shape"]);
                    var shape = ShapeOf(Required(at, "shape"));
                    return Wrap(at, () => b.Reshape(name, input, shape));
                }
                case "relu":
                case "sigmoid":
                {
                    RequireObject(at, ["op", "name", "input", "precision"]);
                    var p = LayerPrecision(at);
                    return Wrap(at, () => op == "relu" ? b.Relu(name, input, p) : b.Sigmoid(name, input, p));
                }
                case "leaky_relu":
                {
                    RequireObject(at, ["op", "name", "input", "precision", "negative_slope"]);
                    float slope = at.Has("negative_slope") ? Float(at.Child("negative_slope")) : 0.01f;
                    var p = LayerPrecision(at);
                    return Wrap(at, () => b.LeakyRelu(name, input, slope, p));
                }
                case "add":
                {
                    RequireObject(at, ["op", "name", "inputs", "precision"]);
                    var inputs = Required(at, "inputs");
                    if (inputs.Element.ValueKind != JsonValueKind.Array || inputs.Element.GetArrayLength() != 2)
                        throw Error(inputs, "must be an array of two layer names");
                    var operands = inputs.Element.EnumerateArray().Select((e, i) =>
                    {
                        var f = new Field(e, $"{inputs.Path}[{i}]");
                        var n = String(f);
                        try { return b[n]; }
                        catch (TinyOdlException) { throw Error(f, $"no layer or input named '{n}' before this layer"); }
                    }).ToArray();
                    var p = LayerPrecision(at);
                    return Wrap(at, () => b.Add(name, operands[0], operands[1], p));
                }
                default:
                    throw Error(at.Path + ".op", $"unknown op '{op}'; supported: {string.Join(", ", Ops)}");
            }
        }

        /// <summary>kernel_size / stride / padding as PyTorch spells them: an integer, [h, w], or for padding [top, left, bottom, right].</summary>
        private Window2d WindowOf(Field layer, Value input, bool defaultStrideIsKernel)
        {
            var kernel = Pair(Required(layer, "kernel_size"), 1);
            var stride = layer.Has("stride") ? Pair(layer.Child("stride"), 0) : defaultStrideIsKernel ? kernel : (1, 1);
            if (stride.Item1 == 0 || stride.Item2 == 0) throw Error(layer.Child("stride"), "must be positive, got 0");
            int[] pads = [0, 0, 0, 0];
            if (layer.Has("padding"))
            {
                var f = layer.Child("padding");
                if (f.Element.ValueKind == JsonValueKind.Array && f.Element.GetArrayLength() == 4)
                    pads = f.Element.EnumerateArray().Select((e, i) => (int)Integer(new Field(e, $"{f.Path}[{i}]"), 0, 1 << 16)).ToArray();
                else
                {
                    var (ph, pw) = Pair(f, 0);
                    pads = [ph, pw, ph, pw];
                }
            }
            return new Window2d(input.Shape[1], input.Shape[2], kernel.Item1, kernel.Item2, stride.Item1, stride.Item2, pads[0], pads[1], pads[2], pads[3]);
        }

        private (int, int) Pair(Field f, int min)
        {
            if (f.Element.ValueKind == JsonValueKind.Number) { int v = (int)Integer(f, min, 1 << 16); return (v, v); }
            if (f.Element.ValueKind != JsonValueKind.Array || f.Element.GetArrayLength() != 2)
                throw Error(f, "must be an integer or an array of two integers [height, width]" + (f.Path.EndsWith("padding", StringComparison.Ordinal) ? " (or four: [top, left, bottom, right])" : ""));
            var v2 = f.Element.EnumerateArray().Select((e, i) => (int)Integer(new Field(e, $"{f.Path}[{i}]"), min, 1 << 16)).ToArray();
            return (v2[0], v2[1]);
        }

        private Precision? LayerPrecision(Field layer) => layer.Has("precision") ? PrecisionOf(layer.Child("precision")) : null;

        private Precision PrecisionOf(Field f) => PrecisionExtensions.Parse(String(f), $"{file}: {f.Path}");

        /// <summary>A PHM layer's "trainable": true, false, or {"a": bool, "f": bool, "bias": bool} (A frozen is a common choice).</summary>
        private (bool A, bool F, bool Bias) PhmTrainable(Field layer)
        {
            if (!layer.Has("trainable")) return (true, true, true);
            var t = layer.Child("trainable");
            if (t.Element.ValueKind is JsonValueKind.True or JsonValueKind.False) { bool v = t.Element.GetBoolean(); return (v, v, v); }
            RequireObject(t, ["a", "f", "bias"]);
            return (!t.Has("a") || Bool(t.Child("a")), !t.Has("f") || Bool(t.Child("f")), !t.Has("bias") || Bool(t.Child("bias")));
        }

        private (bool Weight, bool Bias) Trainable(Field layer)
        {
            if (!layer.Has("trainable")) return (true, true);
            var t = layer.Child("trainable");
            if (t.Element.ValueKind is JsonValueKind.True or JsonValueKind.False) { bool v = t.Element.GetBoolean(); return (v, v); }
            RequireObject(t, ["weight", "bias"]);
            return (!t.Has("weight") || Bool(t.Child("weight")), !t.Has("bias") || Bool(t.Child("bias")));
        }

        private TrainingSettings Training(Field t)
        {
            RequireObject(t, ["dataset", "epochs", "test_fraction", "shuffle_seed"]);
            DatasetSpec? ds = null;
            if (t.Has("dataset"))
            {
                var d = t.Child("dataset");
                RequireObject(d, ["csv", "classes", "scale"]);
                var csvField = Required(d, "csv");
                string csv = Path.GetFullPath(Path.Combine(baseDir, String(csvField)));
                if (!File.Exists(csv)) throw Error(csvField, $"data set file not found: {csv}");
                ds = new DatasetSpec(csv, (int)Integer(Required(d, "classes"), 2, 1 << 16),
                    d.Has("scale") ? Float(d.Child("scale")) : 1f);
            }
            return new TrainingSettings(ds,
                t.Has("epochs") ? (int)Integer(t.Child("epochs"), 1, 100000) : 3,
                t.Has("test_fraction") ? Float(t.Child("test_fraction")) is var f and > 0f and < 1f ? f : throw Error(t.Child("test_fraction"), "must be between 0 and 1") : 0.2,
                t.Has("shuffle_seed") ? (ulong)Integer(t.Child("shuffle_seed"), 0, long.MaxValue) : 1);
        }

        private T Wrap<T>(Field at, Func<T> build)
        {
            try { return build(); }
            catch (TinyOdlException e) { throw Error(at, StripWhere(e.Message)); }
        }

        /// <summary>The builder names the node itself; the reader's path already does, so keep only the reason.</summary>
        private static string StripWhere(string message)
        {
            int i = message.IndexOf(": ", StringComparison.Ordinal);
            return i >= 0 && message.StartsWith("node '", StringComparison.Ordinal) ? message[(i + 2)..] : message;
        }

        private Field Required(Field obj, string name) =>
            obj.Has(name) ? obj.Child(name) : throw Error(obj.Path.Length == 0 ? name : $"{obj.Path}.{name}", "missing required field");

        private void RequireObject(Field f, string[] known)
        {
            if (f.Element.ValueKind != JsonValueKind.Object) throw Error(f, "must be an object");
            foreach (var p in f.Element.EnumerateObject())
                if (!known.Contains(p.Name))
                    throw Error(f.Path.Length == 0 ? p.Name : $"{f.Path}.{p.Name}", $"unknown field; expected one of: {string.Join(", ", known.Where(k => !k.StartsWith('$')))}");
        }

        private string String(Field f) =>
            f.Element.ValueKind == JsonValueKind.String ? f.Element.GetString()! : throw Error(f, "must be a string");

        /// <summary>A PHM layer's "evaluation": "auto" (default), "build" or "factored".</summary>
        private PhmEvaluation Evaluation(Field f) => String(f) switch
        {
            "auto" => PhmEvaluation.Auto,
            "build" => PhmEvaluation.Build,
            "factored" => PhmEvaluation.Factored,
            var other => throw Error(f, $"unknown evaluation '{other}'; expected one of: auto, build, factored"),
        };

        /// <summary>A binary layer's "bop": true, false, or {"threshold": tau, "adaptivity": gamma}.</summary>
        private BopOption? Bop(Field layer)
        {
            if (!layer.Has("bop")) return null;
            var f = layer.Child("bop");
            if (f.Element.ValueKind is JsonValueKind.True or JsonValueKind.False) return Bool(f) ? new BopOption() : null;
            if (f.Element.ValueKind != JsonValueKind.Object) throw Error(f, "must be true, false or an object {\"threshold\": tau, \"adaptivity\": gamma}");
            RequireObject(f, ["threshold", "adaptivity"]);
            var defaults = new BopOption();
            return new BopOption(f.Has("threshold") ? Float(f.Child("threshold")) : defaults.Threshold, f.Has("adaptivity") ? Float(f.Child("adaptivity")) : defaults.Adaptivity);
        }

        /// <summary>A binary layer's "mst": true, false, or {"max_depth": N}.</summary>
        private MstOption? Mst(Field layer)
        {
            if (!layer.Has("mst")) return null;
            var f = layer.Child("mst");
            if (f.Element.ValueKind is JsonValueKind.True or JsonValueKind.False) return Bool(f) ? new MstOption() : null;
            if (f.Element.ValueKind != JsonValueKind.Object) throw Error(f, "must be true, false or an object {\"max_depth\": N, \"regularization\": lambda}");
            RequireObject(f, ["max_depth", "regularization"]);
            float lambda = f.Has("regularization") ? Float(f.Child("regularization")) : 0f;
            if (!(lambda >= 0f) || float.IsInfinity(lambda)) throw Error(f.Child("regularization"), $"must be a finite number >= 0, got {lambda}");
            return new MstOption(f.Has("max_depth") ? (int)Integer(f.Child("max_depth"), 1, 1 << 16) : null, lambda);
        }

        private bool Bool(Field f) =>
            f.Element.ValueKind is JsonValueKind.True or JsonValueKind.False ? f.Element.GetBoolean() : throw Error(f, "must be true or false");

        private long Integer(Field f, long min, long max)
        {
            if (f.Element.ValueKind != JsonValueKind.Number || !f.Element.TryGetInt64(out long v))
                throw Error(f, "must be an integer");
            if (v < min || v > max) throw Error(f, $"must be between {min} and {max}, got {v}");
            return v;
        }

        private float Float(Field f)
        {
            if (f.Element.ValueKind != JsonValueKind.Number) throw Error(f, "must be a number");
            float v = f.Element.GetSingle();
            return float.IsFinite(v) ? v : throw Error(f, "must be a finite float32 value");
        }

        private float[] FloatArray(Field f, int expected)
        {
            if (f.Element.ValueKind != JsonValueKind.Array) throw Error(f, "must be an array of numbers");
            int n = f.Element.GetArrayLength();
            if (n != expected) throw Error(f, $"shape mismatch: {n} values, expected {expected}");
            return f.Element.EnumerateArray().Select((e, i) => Float(new Field(e, $"{f.Path}[{i}]"))).ToArray();
        }

        private Shape ShapeOf(Field f)
        {
            if (f.Element.ValueKind != JsonValueKind.Array || f.Element.GetArrayLength() == 0)
                throw Error(f, "must be a non-empty array of positive integers");
            var dims = f.Element.EnumerateArray().Select((e, i) => (int)Integer(new Field(e, $"{f.Path}[{i}]"), 1, 1 << 24)).ToArray();
            return new Shape(dims);
        }
    }
}

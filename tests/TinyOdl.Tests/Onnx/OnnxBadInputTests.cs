using Onnx;
using TinyOdl.Frontends.Onnx;
using TinyOdl.Tests.Support;
using static TinyOdl.Tests.Onnx.OnnxFile;

namespace TinyOdl.Tests.Onnx;

/// <summary>
/// Files the importer must refuse: one line "file: where: why", a <see cref="TinyOdlException"/>, naming the node
/// (name, op type, opset) and the attribute or input at fault. Never another exception.
/// </summary>
public sealed class OnnxBadInputTests
{
    private const string Supported = "supported: Gemm, MatMul, Conv (2-D), Add (bias of a Gemm/MatMul, or of two computed tensors that broadcast), Relu, LeakyRelu, Sigmoid, " +
        "MaxPool, AveragePool, GlobalAveragePool (2-D), BatchNormalization (inference), Flatten, Reshape, Identity, Dropout";

    private static string Error(OnnxFile f, OnnxImportOptions? options = null) => Error(() => OnnxModelReader.Import(f.Bytes(), "m.onnx", options));

    private static string Error(Action import)
    {
        var e = Assert.Throws<TinyOdlException>(import);
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    private static OnnxFile Dense(int opset = 13) => new OnnxFile(opset)
        .Input("x", "N", 4).Output("y", "N", 3)
        .Initializer("W", [3, 4], Random(1, 12)).Initializer("b", [3], Random(2, 3));

    [Fact]
    public void A_json_file_named_onnx_is_not_an_onnx_model()
    {
        using var tmp = new TempDir();
        var path = tmp.File("digits.onnx");
        File.Copy(Path.Combine(Repo.Examples, "digits-mlp.json"), path);
        var message = Error(() => OnnxModelReader.Load(path));
        Assert.StartsWith($"{path}: not an ONNX model (it looks like JSON; TinyOdl JSON models need the .json extension", message);
    }

    [Fact]
    public void Random_text_and_an_empty_file_are_not_onnx_models()
    {
        using var tmp = new TempDir();
        var text = tmp.File("notes.onnx");
        File.WriteAllText(text, "hello, this is not a model\n");
        Assert.StartsWith($"{text}: not an ONNX model (", Error(() => OnnxModelReader.Load(text)));
        var empty = tmp.File("empty.onnx");
        File.WriteAllBytes(empty, []);
        Assert.Equal($"{empty}: not an ONNX model (the file is empty)", Error(() => OnnxModelReader.Load(empty)));
        Assert.Equal($"{tmp.File("missing.onnx")}: file not found", Error(() => OnnxModelReader.Load(tmp.File("missing.onnx"))));
    }

    [Fact]
    public void A_truncated_onnx_file_is_reported_as_truncated()
    {
        var bytes = Dense().Node("Gemm", ["x", "W", "b"], ["y"], "fc", Attr("transB", 1L)).Bytes();
        foreach (int length in new[] { bytes.Length / 2, bytes.Length - 3, 20 })
        {
            var message = Error(() => OnnxModelReader.Import(bytes[..length], "m.onnx"));
            Assert.StartsWith("m.onnx: truncated", message);
        }
    }

    [Fact]
    public void An_unsupported_op_names_the_node_its_op_and_opset_and_lists_what_is_supported()
    {
        var f = new OnnxFile(opset: 9)
            .Input("x", "N", 1, 5, 5).Output("y", "N", 2, 3, 3)
            .Initializer("k", [2, 1, 3, 3], Random(3, 18))
            .Node("ConvTranspose", ["x", "k"], ["y"], "ConvTranspose_0", Attr("kernel_shape", new long[] { 3, 3 }));
        var message = Error(f);
        Assert.StartsWith($"m.onnx: node 'ConvTranspose_0' (ConvTranspose, opset 9): operator not supported yet; {Supported}", message);
    }

    [Fact]
    public void An_unnamed_node_is_named_by_op_and_position()
    {
        var f = Dense().Node("Gemm", ["x", "W", "b"], ["h"], "fc", Attr("transB", 1L)).Node("Tanh", ["h"], ["y"]);
        Assert.StartsWith("m.onnx: node 'Tanh_1' (Tanh, opset 13): operator not supported yet", Error(f));
    }

    [Fact]
    public void An_op_of_another_domain_names_the_domain()
    {
        var f = Dense().Node("Gemm", ["x", "W", "b"], ["y"], "fc", Attr("transB", 1L));
        f.Model.Graph.Node[0].Domain = "com.microsoft";
        f.Model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        Assert.StartsWith("m.onnx: node 'fc' (com.microsoft.Gemm, opset 1): operator not supported yet", Error(f));
    }

    [Fact]
    public void Gemm_with_transA_1_is_an_unsupported_attribute()
    {
        var f = Dense().Node("Gemm", ["x", "W", "b"], ["y"], "fc", Attr("transA", 1L), Attr("transB", 1L));
        Assert.StartsWith("m.onnx: node 'fc' (Gemm, opset 13): attribute transA=1 is not supported; supported: transA=0", Error(f));
    }

    [Fact]
    public void Other_unsupported_attributes_name_the_attribute()
    {
        Assert.StartsWith("m.onnx: node 'fc' (Gemm, opset 13): attribute alpha=2 is not supported",
            Error(Dense().Node("Gemm", ["x", "W", "b"], ["y"], "fc", Attr("alpha", 2f), Attr("transB", 1L))));
        Assert.StartsWith("m.onnx: node 'fc' (Gemm, opset 13): attribute beta=0.5 is not supported",
            Error(Dense().Node("Gemm", ["x", "W", "b"], ["y"], "fc", Attr("beta", 0.5f), Attr("transB", 1L))));
        var relu = Dense().Node("Gemm", ["x", "W", "b"], ["h"], "fc", Attr("transB", 1L)).Node("Relu", ["h"], ["y"], "act", Attr("alpha", 0.1f));
        Assert.StartsWith("m.onnx: node 'act' (Relu, opset 13): attribute 'alpha' is not supported", Error(relu));
        var flatten = new OnnxFile().Input("x", "N", 2, 3).Output("y", 2, 3).Initializer("W", [3, 3], Random(4, 9))
            .Node("Flatten", ["x"], ["f"], "flat", Attr("axis", 2L)).Node("MatMul", ["f", "W"], ["y"], "mm");
        Assert.StartsWith("m.onnx: node 'flat' (Flatten, opset 13): attribute axis=2 is not supported", Error(flatten));
        var dropout = Dense(opset: 6).Node("Dropout", ["x"], ["d"], "drop").Node("Gemm", ["d", "W", "b"], ["y"], "fc", Attr("transB", 1L), Attr("broadcast", 1L));
        Assert.StartsWith("m.onnx: node 'drop' (Dropout, opset 6): attribute is_test=0 is not supported", Error(dropout));
    }

    [Fact]
    public void Dynamic_non_batch_dimensions_are_refused()
    {
        var f = new OnnxFile().Input("x", "N", "H").Output("y", "N", 3).Initializer("W", [3, 4], Random(5, 12))
            .Node("Gemm", ["x", "W"], ["y"], "fc", Attr("transB", 1L));
        Assert.Equal("m.onnx: graph input 'x' (read by node 'fc' (Gemm, opset 13)): has shape [N, H]: dimension 1 ('H') is dynamic; " +
                     "only the first (batch) dimension may be. Export with fixed sizes for the others", Error(f));
        var vector = new OnnxFile().Input("x", "len").Output("y", 3).Initializer("W", [4, 3], Random(5, 12))
            .Node("MatMul", ["x", "W"], ["y"], "mm");
        Assert.Contains("graph input 'x' (read by node 'mm' (MatMul, opset 13)): has shape [len]: dimension 0 is dynamic", Error(vector));
    }

    [Fact]
    public void Weights_must_be_initializers()
    {
        var f = new OnnxFile().Input("x", "N", 4).Input("w", 4, 3).Output("y", "N", 3)
            .Node("MatMul", ["x", "w"], ["y"], "mm");
        Assert.StartsWith("m.onnx: node 'mm' (MatMul, opset 13): input B ('w') is a second graph input", Error(f));
    }

    [Fact]
    public void Add_of_a_constant_is_only_a_bias_and_Add_of_computed_tensors_needs_one_shape()
    {
        var broadcast = Dense().Initializer("W1", [4, 3], Random(9, 12))
            .Node("MatMul", ["x", "W1"], ["three"], "mm1").Node("Add", ["x", "three"], ["y"], "sum");
        Assert.Equal("m.onnx: node 'sum' (Add, opset 13): adds computed tensors of shapes [N, 4] and [N, 3], which do not broadcast per sample", Error(broadcast));

        var afterRelu = Dense().Node("Relu", ["x"], ["a"], "r1").Node("Add", ["a", "b"], ["y"], "plus");
        Assert.StartsWith("m.onnx: node 'plus' (Add, opset 13): Add of a constant is supported only as the bias of a Gemm or MatMul", Error(afterRelu));
        Assert.Contains("here it adds to the output of node 'r1' (Relu)", Error(afterRelu));

        var scalar = Dense().Initializer("s", [1], [0.5f]).Node("MatMul", ["x", "Wt"], ["h"], "mm").Node("Add", ["h", "s"], ["y"], "plus");
        scalar.Initializer("Wt", [4, 3], Random(6, 12));
        Assert.Contains("one trainable value per output", Error(scalar));
        Assert.StartsWith("m.onnx: node 'plus' (Add, opset 13): cannot be folded into node 'mm' as its bias", Error(scalar));

        var gemmC = Dense().Initializer("s", [1], [0.5f]).Node("Gemm", ["x", "W", "s"], ["y"], "fc", Attr("transB", 1L));
        Assert.StartsWith("m.onnx: node 'fc' (Gemm, opset 13): input C 's' [1]: a bias of 1 value broadcast over 3 outputs", Error(gemmC));
    }

    [Fact]
    public void Shape_ops_that_would_mix_samples_are_refused()
    {
        var reshape = Dense().Int64Initializer("s", -1).Node("Reshape", ["x", "s"], ["f"], "flat_all").Node("MatMul", ["f", "W"], ["y"], "mm");
        Assert.StartsWith("m.onnx: node 'flat_all' (Reshape, opset 13): shape [-1] does not keep the batch dimension first", Error(reshape));
        var bad = Dense().Int64Initializer("s", 0, 5).Node("Reshape", ["x", "s"], ["f"], "r").Node("Relu", ["f"], ["y"], "act");
        Assert.Contains("shape mismatch: shape [0, 5] holds 5 elements per sample but the input [N, 4] has 4", Error(bad));
        var threeD = new OnnxFile().Input("x", "N", 2, 4).Output("y", "N", 2, 3).Initializer("W", [4, 3], Random(7, 12))
            .Node("MatMul", ["x", "W"], ["y"], "mm");
        Assert.StartsWith("m.onnx: node 'mm' (MatMul, opset 13): input A has shape [N, 2, 4]; MatMul needs", Error(threeD));
    }

    [Fact]
    public void Softmax_must_be_last_and_cover_the_whole_sample()
    {
        var notLast = Dense().Node("Softmax", ["x"], ["p"], "sm").Node("Gemm", ["p", "W", "b"], ["y"], "fc", Attr("transB", 1L));
        Assert.StartsWith("m.onnx: node 'sm' (Softmax, opset 13): supported only as the last op of the graph", Error(notLast));
        var perRow = new OnnxFile().Input("x", "N", 2, 3).Output("y", "N", 2, 3).Node("Relu", ["x"], ["r"], "act").Node("LogSoftmax", ["r"], ["y"], "ls");
        Assert.StartsWith("m.onnx: node 'ls' (LogSoftmax, opset 13): attribute axis=-1 is not supported", Error(perRow));
        var nothing = new OnnxFile().Input("x", "N", 5).Output("y", "N", 5).Node("Softmax", ["x"], ["y"], "sm");
        Assert.Contains("nothing is left to train", Error(nothing));
    }

    /// <summary>An [N, 4, 6, 6] input and a 3x3 conv of 4 -> 6 channels; <paramref name="attributes"/> go on the Conv.</summary>
    private static OnnxFile Image(string op = "Conv", int opset = 13, params AttributeProto[] attributes)
    {
        var f = new OnnxFile(opset).Input("x", "N", 4, 6, 6).Output("y").Initializer("k", [6, 4, 3, 3], Random(20, 216));
        return op == "Conv" ? f.Node("Conv", ["x", "k"], ["y"], "conv", attributes) : f.Node(op, ["x"], ["y"], "pool", attributes);
    }

    [Fact]
    public void Conv_attributes_beyond_2d_undilated_windows_name_the_attribute()
    {
        Assert.Equal("m.onnx: node 'conv' (Conv, opset 13): attribute dilations=[2, 2] is not supported; supported: dilations=[1, 1] (TinyOdl has no dilated windows)",
            Error(Image(attributes: Attr("dilations", new long[] { 2, 2 }))));
        Assert.Equal("m.onnx: node 'conv' (Conv, opset 13): attribute auto_pad=SAME is not supported; supported: NOTSET (explicit pads), VALID, SAME_UPPER, SAME_LOWER",
            Error(Image(attributes: new AttributeProto { Name = "auto_pad", Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8("SAME") })));
        Assert.Equal("m.onnx: node 'conv' (Conv, opset 13): attribute pads=[1, 1, 1, 1] is not supported; explicit pads cannot be combined with auto_pad=VALID",
            Error(Image(attributes: [new AttributeProto { Name = "auto_pad", Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8("VALID") },
                Attr("pads", new long[] { 1, 1, 1, 1 })])));
        Assert.Equal("m.onnx: node 'conv' (Conv, opset 13): attribute strides=[0, 1] is not supported; each value must be between 1 and 65536",
            Error(Image(attributes: Attr("strides", new long[] { 0, 1 }))));
        Assert.Equal("m.onnx: node 'conv' (Conv, opset 13): attribute pads=[1, 1] is not supported; it needs 4 values for a 2-D window (TinyOdl supports 2-D images only)",
            Error(Image(attributes: Attr("pads", new long[] { 1, 1 }))));
        Assert.Equal("m.onnx: node 'conv' (Conv, opset 13): attribute kernel_shape=[5, 5] is not supported; it must match the kernel 3x3 of W 'k' [6, 4, 3, 3]",
            Error(Image(attributes: Attr("kernel_shape", new long[] { 5, 5 }))));
    }

    [Fact]
    public void Conv_groups_and_weights_must_fit_the_channels()
    {
        Assert.Equal("m.onnx: node 'conv' (Conv, opset 13): attribute group=3 is not supported; group must divide the 4 input channels of X [N, 4, 6, 6] and the 6 output channels of W 'k' [6, 4, 3, 3]",
            Error(Image(attributes: Attr("group", 3L))));
        Assert.Equal("m.onnx: node 'conv' (Conv, opset 13): shape mismatch: input W 'k' [6, 4, 3, 3] has 4 input channels per group, but X [N, 4, 6, 6] has 4 channels in 2 groups (2 per group)",
            Error(Image(attributes: Attr("group", 2L))));
        var big = new OnnxFile().Input("x", "N", 1, 2, 2).Output("y").Initializer("k", [1, 1, 3, 3], Random(21, 9)).Node("Conv", ["x", "k"], ["y"], "conv");
        Assert.StartsWith("m.onnx: node 'conv' (Conv, opset 13): shape mismatch: the kernel 3x3 is larger than the padded input 2x2", Error(big));
        var oneD = new OnnxFile().Input("x", "N", 4, 6).Output("y").Initializer("k", [6, 4, 3], Random(22, 72)).Node("Conv", ["x", "k"], ["y"], "conv");
        Assert.Equal("m.onnx: node 'conv' (Conv, opset 13): input X has shape [N, 4, 6]; Conv is supported on 4-D [N, C, H, W] tensors with the batch first (2-D images)", Error(oneD));
        var bias = Image().Initializer("b", [4], Random(23, 4));
        bias.Model.Graph.Node[0].Input.Add("b");
        Assert.Equal("m.onnx: node 'conv' (Conv, opset 13): input B 'b' [4] must have shape [6] (one bias per output channel)", Error(bias));
        var computedWeight = new OnnxFile().Input("x", "N", 4, 6, 6).Input("k", 6, 4, 3, 3).Output("y").Node("Conv", ["x", "k"], ["y"], "conv");
        Assert.StartsWith("m.onnx: node 'conv' (Conv, opset 13): input W ('k') is a second graph input", Error(computedWeight));
    }

    [Fact]
    public void Pooling_attributes_TinyOdl_does_not_have_name_the_attribute()
    {
        AttributeProto Kernel = Attr("kernel_shape", new long[] { 2, 2 });
        Assert.Equal("m.onnx: node 'pool' (MaxPool, opset 13): attribute ceil_mode=1 is not supported; supported: ceil_mode=0 (the output size is rounded down)",
            Error(Image("MaxPool", 13, Kernel, Attr("ceil_mode", 1L))));
        Assert.Equal("m.onnx: node 'pool' (AveragePool, opset 10): attribute ceil_mode=1 is not supported; supported: ceil_mode=0 (the output size is rounded down)",
            Error(Image("AveragePool", 10, Kernel, Attr("ceil_mode", 1L))));
        Assert.StartsWith("m.onnx: node 'pool' (MaxPool, opset 12): attribute dilations=[2, 2] is not supported",
            Error(Image("MaxPool", 12, Kernel, Attr("dilations", new long[] { 2, 2 }))));
        Assert.Equal("m.onnx: node 'pool' (MaxPool, opset 12): attribute storage_order=1 is not supported; supported: storage_order=0 (row major)",
            Error(Image("MaxPool", 12, Kernel, Attr("storage_order", 1L))));
        // Attributes an opset does not define are refused by name, listing the ones it does.
        Assert.Equal("m.onnx: node 'pool' (AveragePool, opset 6): attribute 'count_include_pad' is not supported (understood here: auto_pad, kernel_shape, pads, strides)",
            Error(Image("AveragePool", 6, Kernel, Attr("count_include_pad", 1L))));
        Assert.Equal("m.onnx: node 'pool' (MaxPool, opset 13): attribute 'kernel_shape' is missing", Error(Image("MaxPool")));
        Assert.Equal("m.onnx: node 'pool' (MaxPool, opset 13): pads [2, 0, 0, 0] must be smaller than the kernel 2x2 (a window could hold only padding)",
            Error(Image("MaxPool", 13, Kernel, Attr("pads", new long[] { 2, 0, 0, 0 }))));
        var indices = Image("MaxPool", 13, Kernel).Output("idx");
        indices.Model.Graph.Node[0].Output.Add("idx");
        Assert.StartsWith("m.onnx: graph: has 2 outputs", Error(indices));
        var usedIndices = Image("MaxPool", 13, Kernel);
        usedIndices.Model.Graph.Node[0].Output.Add("idx");
        usedIndices.Node("Relu", ["idx"], ["r"], "act").Node("Add", ["y", "r"], ["z"], "sum").Model.Graph.Output[0].Name = "z";
        Assert.Equal("m.onnx: node 'pool' (MaxPool, opset 13): its Indices output 'idx' is used; only the pooled values (output 0) are supported", Error(usedIndices));
    }

    [Fact]
    public void BatchNormalization_must_be_in_inference_form_with_per_channel_initializers()
    {
        OnnxFile Bn(int opset, int outputs = 1, long[]? varDims = null, params AttributeProto[] attributes)
        {
            var f = new OnnxFile(opset).Input("x", "N", 3, 4, 4).Output("y", "N", 3, 4, 4)
                .Initializer("s", [3], Random(24, 3)).Initializer("b", [3], Random(25, 3)).Initializer("m", [3], Random(26, 3))
                .Initializer("v", varDims ?? [3], Enumerable.Repeat(1f, (int)(varDims ?? [3]).Aggregate(1L, (p, d) => p * d)).ToArray());
            return f.Node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", .. new[] { "mean", "var" }.Take(outputs - 1)], "bn", attributes);
        }
        Assert.Equal("m.onnx: node 'bn' (BatchNormalization, opset 15): attribute training_mode=1 is not supported; supported: training_mode=0 (inference: the stored mean and var normalize); export the model in eval mode",
            Error(Bn(15, attributes: Attr("training_mode", 1L))));
        Assert.StartsWith("m.onnx: node 'bn' (BatchNormalization, opset 6): attribute is_test=0 is not supported; before opset 7 BatchNormalization normalizes with the batch's own statistics",
            Error(Bn(6)));
        Assert.Equal("m.onnx: node 'bn' (BatchNormalization, opset 7): attribute spatial=0 is not supported; supported: spatial=1 (one scale, bias, mean and var per channel)",
            Error(Bn(7, attributes: Attr("spatial", 0L))));
        var runningMean = Bn(9, outputs: 2).Node("Relu", ["mean"], ["r"], "act").Node("Add", ["y", "r"], ["z"], "sum");
        runningMean.Model.Graph.Output[0].Name = "z";
        Assert.Equal("m.onnx: node 'bn' (BatchNormalization, opset 9): its output 1 ('mean', batch statistics of training mode) is used; only inference BatchNormalization (output Y) is supported",
            Error(runningMean));
        Assert.Equal("m.onnx: node 'bn' (BatchNormalization, opset 15): input var 'v' [1, 3] must have shape [3] (one value per channel of X [N, 3, 4, 4])",
            Error(Bn(15, varDims: [1, 3])));
        var vector = new OnnxFile().Input("x", "N", 3).Output("y", "N", 3)
            .Initializer("s", [3], Random(27, 3)).Initializer("b", [3], Random(28, 3)).Initializer("m", [3], Random(29, 3)).Initializer("v", [3], [1f, 1f, 1f])
            .Node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], "bn");
        Assert.StartsWith("m.onnx: node 'bn' (BatchNormalization, opset 13): input X has shape [N, 3]; BatchNormalization is supported on [N, C, D1, ...] tensors", Error(vector));
    }

    [Fact]
    public void Graph_level_problems_are_named()
    {
        var twoOutputs = Dense().Node("Gemm", ["x", "W", "b"], ["y"], "fc", Attr("transB", 1L)).Node("Relu", ["y"], ["z"], "act").Output("z", "N", 3);
        Assert.Equal("m.onnx: graph: has 2 outputs ('y', 'z'); TinyOdl trains models with one output", Error(twoOutputs));
        var doubles = new OnnxFile().TypedInput("x", TensorProto.Types.DataType.Double, "N", 4).Output("y", "N", 4).Node("Relu", ["x"], ["y"], "act");
        Assert.Equal("m.onnx: graph input 'x' (read by node 'act' (Relu, opset 13)): element type DOUBLE is not supported; TinyOdl imports float32 (FLOAT) models", Error(doubles));
        var copy = new OnnxFile().Input("x", "N", 4).Output("y", "N", 4).Node("Identity", ["x"], ["y"], "id");
        Assert.StartsWith("m.onnx: node 'id' (Identity, opset 13): the output is the graph input", Error(copy));
        var mismatch = Dense().Node("Gemm", ["x", "W", "b"], ["y"], "fc", Attr("transB", 1L));
        mismatch.Model.Graph.Output[0].Type.TensorType.Shape.Dim[1].DimValue = 7;
        Assert.Equal("m.onnx: graph output 'y': is declared with shape [N, 7] but the graph computes [N, 3]", Error(mismatch));
    }

    [Fact]
    public void Weights_that_do_not_fit_and_non_float_weights_are_named()
    {
        var wrongK = new OnnxFile().Input("x", "N", 5).Output("y", "N", 3).Initializer("W", [3, 4], Random(8, 12))
            .Node("Gemm", ["x", "W"], ["y"], "fc", Attr("transB", 1L));
        Assert.Equal("m.onnx: node 'fc' (Gemm, opset 13): shape mismatch: input B 'W' [3, 4] (transB=1) has 4 input features but A has 5", Error(wrongK));
        var f = new OnnxFile().Input("x", "N", 2).Output("y", "N", 2).Node("MatMul", ["x", "W"], ["y"], "mm");
        var t = new TensorProto { Name = "W", DataType = (int)TensorProto.Types.DataType.Double };
        t.Dims.AddRange([2, 2]);
        t.DoubleData.AddRange([1, 2, 3, 4]);
        f.Model.Graph.Initializer.Add(t);
        Assert.Equal("m.onnx: node 'mm' (MatMul, opset 13): input B ('W'): element type DOUBLE is not supported; TinyOdl imports float32 (FLOAT) tensors", Error(f));
    }
}

using Onnx;
using TinyOdl.Frontends.Onnx;
using TinyOdl.Graph;
using static TinyOdl.Tests.Onnx.OnnxFile;
using static TinyOdl.Tests.Onnx.OnnxImportTests;

namespace TinyOdl.Tests.Onnx;

/// <summary>
/// The 2-D image ops of the ONNX importer (Conv, MaxPool, AveragePool, GlobalAveragePool, BatchNormalization,
/// Flatten/Reshape of NCHW tensors): the nodes and initial weights they become, and predictions that match the
/// float64 ONNX reference on a whole batch.
/// </summary>
public sealed class OnnxCnnImportTests
{
    /// <summary>An INTS attribute written briefly: <c>Ints("pads", 1, 0, 1, 0)</c>.</summary>
    private static AttributeProto Ints(string name, params long[] values) => Attr(name, values);

    private static AttributeProto Text(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(value) };

    [Fact]
    public void Conv_is_a_conv2d_node_with_the_files_weights_bias_strides_and_pads()
    {
        var w = Random(1, 4 * 3 * 3 * 2);
        var b = Random(2, 4);
        var f = new OnnxFile()
            .Input("x", "N", 3, 7, 5).Output("y", "N", 4, 3, 4)
            .Initializer("conv.weight", [4, 3, 3, 2], w).Initializer("conv.bias", [4], b, raw: true)
            .Node("Conv", ["x", "conv.weight", "conv.bias"], ["y"], "/conv/Conv",
                Ints("kernel_shape", 3, 2), Ints("strides", 2, 1), Ints("pads", 1, 0, 0, 0), Ints("dilations", 1, 1), Attr("group", 1L));
        var imp = Import(f);
        var m = imp.Model;

        var conv = Assert.IsType<Conv2dNode>(Assert.Single(m.Nodes));
        Assert.Equal("conv_Conv", conv.Name);
        Assert.Equal(new Shape(3, 7, 5), m.Input.Shape); // [N, C, H, W] -> [C, H, W]
        Assert.Equal(new Window2d(7, 5, 3, 2, StrideH: 2, StrideW: 1, PadTop: 1), conv.Window);
        Assert.Equal((3, 4, 1), (conv.InChannels, conv.OutChannels, conv.Groups));
        Assert.Equal(new Shape(4, 3, 4), conv.Output.Shape); // rows (7 + 1 - 3) / 2 + 1, columns (5 - 2) / 1 + 1
        Assert.Equal(new Shape(4, 3, 3, 2), conv.Weight.Value.Shape); // ONNX's [M, C/group, kH, kW] is TinyOdl's layout
        Assert.Equal(Bits(w), Bits(conv.Weight.Initial));
        Assert.Equal(Bits(b), Bits(conv.Bias!.Initial));
        Assert.True(conv.Weight.Trainable && conv.Bias.Trainable);
        Assert.Equal(["N", "4", "3", "4"], imp.Output.Dims);
        Assert.Equal(new Shape(4, 3, 4), imp.Output.SampleShape);
        MatchesReference(f, imp, [2, 3, 7, 5]);
    }

    [Fact]
    public void A_small_cnn_with_depthwise_conv_pooling_flatten_and_a_classifier_matches_the_reference()
    {
        var f = new OnnxFile()
            .Input("image", "N", 2, 8, 8).Output("logp", "N", 5)
            .Initializer("w1", [4, 2, 3, 3], Random(3, 72)).Initializer("b1", [4], Random(4, 4))
            .Initializer("dw", [4, 1, 3, 3], Random(5, 36))
            .Initializer("fc_w", [5, 4 * 2 * 2], Random(6, 80)).Initializer("fc_b", [5], Random(7, 5))
            .Node("Conv", ["image", "w1", "b1"], ["c1"], "conv1", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
            .Node("Relu", ["c1"], ["r1"], "relu1")
            .Node("MaxPool", ["r1"], ["p1"], "pool1", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2))
            .Node("Conv", ["p1", "dw"], ["c2"], "depthwise", Attr("group", 4L), Ints("pads", 1, 1, 1, 1))
            .Node("LeakyRelu", ["c2"], ["r2"], "relu2", Attr("alpha", 0.1f))
            .Node("AveragePool", ["r2"], ["p2"], "pool2", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2))
            .Node("Flatten", ["p2"], ["flat"], "flatten", Attr("axis", 1L))
            .Node("Gemm", ["flat", "fc_w", "fc_b"], ["z"], "fc", Attr("transB", 1L))
            .Node("LogSoftmax", ["z"], ["logp"], "out", Attr("axis", 1L));
        var imp = Import(f);
        var m = imp.Model;
        Assert.Equal(["conv2d", "relu", "max_pool", "conv2d", "leaky_relu", "average_pool", "reshape", "linear"], m.Nodes.Select(n => n.OpName));
        var depthwise = (Conv2dNode)m.Nodes[3];
        Assert.Equal((4, 4, 4), (depthwise.InChannels, depthwise.OutChannels, depthwise.Groups));
        Assert.Null(depthwise.Bias);
        Assert.Equal(new Shape(4, 2, 2), m.Nodes[5].Output.Shape);
        Assert.Equal(new Shape(16), m.Nodes[6].Output.Shape);
        Assert.Equal(16, ((LinearNode)m.Nodes[7]).InFeatures);
        Assert.IsType<SoftmaxCrossEntropyLossNode>(m.Loss);
        MatchesReference(f, imp, [3, 2, 8, 8]);
    }

    [Theory]
    [InlineData("SAME_UPPER", 0, 0, 1, 1)] // total padding 1 per axis: the odd one at the end
    [InlineData("SAME_LOWER", 1, 1, 0, 0)] // ... or at the beginning
    [InlineData("VALID", 0, 0, 0, 0)]
    public void Conv_auto_pad_is_turned_into_pads(string autoPad, int top, int left, int bottom, int right)
    {
        var f = new OnnxFile()
            .Input("x", "N", 2, 5, 6).Output("y", ["N", 3, .. autoPad == "VALID" ? new object[] { 4, 2 } : [5, 3]])
            .Initializer("w", [3, 2, 2, 3], Random(8, 36))
            .Node("Conv", ["x", "w"], ["y"], "conv", Text("auto_pad", autoPad), Ints("strides", 1, 2));
        var imp = Import(f);
        var conv = Assert.IsType<Conv2dNode>(Assert.Single(imp.Model.Nodes));
        Assert.Equal((top, left, bottom, right), (conv.Window.PadTop, conv.Window.PadLeft, conv.Window.PadBottom, conv.Window.PadRight));
        // SAME keeps ceil(in / stride) outputs: 5 rows at stride 1, 3 columns at stride 2.
        Assert.Equal(autoPad == "VALID" ? new Shape(3, 4, 2) : new Shape(3, 5, 3), conv.Output.Shape);
        MatchesReference(f, imp, [2, 2, 5, 6]);
    }

    [Fact]
    public void MaxPool_and_AveragePool_with_padding_map_to_pool_nodes()
    {
        OnnxFile File(string op, params AttributeProto[] extra) => new OnnxFile()
            .Input("x", "N", 3, 7, 7).Output("y", "N", 3, 4, 4)
            .Node(op, ["x"], ["y"], "pool", [Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), .. extra]);

        var max = File("MaxPool", Attr("ceil_mode", 0L), Attr("storage_order", 0L), Ints("dilations", 1, 1));
        var imp = Import(max);
        var pool = Assert.IsType<PoolNode>(Assert.Single(imp.Model.Nodes));
        Assert.Equal(PoolKind.Max, pool.Kind);
        Assert.Equal(new Window2d(7, 7, 3, 3, 2, 2, 1, 1, 1, 1), pool.Window);
        Assert.Equal(new Shape(3, 4, 4), pool.Output.Shape);
        Assert.Empty(imp.Model.Parameters);
        MatchesReference(max, imp, [2, 3, 7, 7]);

        foreach (long include in new[] { 0L, 1L })
        {
            var average = File("AveragePool", Attr("count_include_pad", include));
            imp = Import(average);
            pool = Assert.IsType<PoolNode>(Assert.Single(imp.Model.Nodes));
            Assert.Equal((PoolKind.Average, include == 1), (pool.Kind, pool.CountIncludePad));
            MatchesReference(average, imp, [2, 3, 7, 7]);
        }
    }

    [Fact]
    public void GlobalAveragePool_gives_one_value_per_channel()
    {
        var f = new OnnxFile()
            .Input("x", "N", 4, 5, 3).Output("y", "N", 2)
            .Initializer("w", [2, 4], Random(9, 8))
            .Node("GlobalAveragePool", ["x"], ["g"], "gap")
            .Node("Flatten", ["g"], ["flat"], "flatten")
            .Node("Gemm", ["flat", "w"], ["y"], "fc", Attr("transB", 1L));
        var imp = Import(f);
        var m = imp.Model;
        Assert.Equal(["global_average_pool", "reshape", "linear"], m.Nodes.Select(n => n.OpName));
        Assert.Equal(new Shape(4, 1, 1), m.Nodes[0].Output.Shape);
        MatchesReference(f, imp, [3, 4, 5, 3]);
    }

    [Theory]
    [InlineData(15)] // training_mode=0
    [InlineData(9)]
    [InlineData(6)]  // is_test=1, spatial=1: PyTorch 0.3's export of BatchNorm2d in eval mode
    public void BatchNormalization_in_inference_form_is_a_batch_norm_with_frozen_statistics(int opset)
    {
        var scale = Random(10, 3);
        var bias = Random(11, 3);
        var mean = Random(12, 3);
        var variance = Random(13, 3).Select(v => 0.5f + Math.Abs(v)).ToArray();
        AttributeProto[] attributes = opset switch
        {
            >= 14 => [Attr("epsilon", 1e-3f), Attr("momentum", 0.9f), Attr("training_mode", 0L)],
            >= 9 => [Attr("epsilon", 1e-3f), Attr("momentum", 0.9f)],
            _ => [Attr("epsilon", 1e-3f), Attr("momentum", 0.9f), Attr("is_test", 1L), Attr("spatial", 1L)],
        };
        var f = new OnnxFile(opset)
            .Input("x", "N", 3, 4, 5).Output("y", "N", 3, 4, 5)
            .Initializer("bn.weight", [3], scale).Initializer("bn.bias", [3], bias)
            .Initializer("bn.running_mean", [3], mean).Initializer("bn.running_var", [3], variance)
            .Node("BatchNormalization", ["x", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"], ["y"], "bn", attributes);
        var imp = Import(f);
        var bn = Assert.IsType<BatchNormNode>(Assert.Single(imp.Model.Nodes));
        Assert.Equal(Bits(scale), Bits(bn.Scale.Initial));
        Assert.Equal(Bits(bias), Bits(bn.Shift.Initial));
        Assert.Equal(Bits(mean), Bits(bn.Mean.Initial));
        Assert.Equal(variance.Select(v => (float)(1 / Math.Sqrt((double)v + 1e-3f))), bn.InvStd.Initial);
        Assert.True(bn.Scale.Trainable && bn.Shift.Trainable);
        Assert.False(bn.Mean.Trainable || bn.InvStd.Trainable);
        MatchesReference(f, imp, [2, 3, 4, 5]);
    }

    [Fact]
    public void Reshape_to_and_from_NCHW_gives_the_per_sample_shapes()
    {
        // [N, 48] -> [N, 3, 4, 4] -> Conv -> [N, 2, 2, 2] -> Reshape [N, -1] -> Gemm.
        var f = new OnnxFile()
            .Input("x", "N", 48).Output("y", "N", 3)
            .Int64Initializer("to_image", 0, 3, 4, 4).Int64Initializer("to_rows", 0, -1)
            .Initializer("k", [2, 3, 3, 3], Random(14, 54)).Initializer("w", [3, 8], Random(15, 24))
            .Node("Reshape", ["x", "to_image"], ["img"], "to_image")
            .Node("Conv", ["img", "k"], ["c"], "conv")
            .Node("Reshape", ["c", "to_rows"], ["rows"], "to_rows")
            .Node("Gemm", ["rows", "w"], ["y"], "fc", Attr("transB", 1L));
        var imp = Import(f);
        var m = imp.Model;
        Assert.Equal(["reshape", "conv2d", "reshape", "linear"], m.Nodes.Select(n => n.OpName));
        Assert.Equal([new Shape(3, 4, 4), new Shape(2, 2, 2), new Shape(8), new Shape(3)], m.Nodes.Select(n => n.Output.Shape));
        MatchesReference(f, imp, [2, 48]);
    }

    [Fact]
    public void Flatten_of_an_NCHW_input_alone_is_a_model_of_one_view()
    {
        var f = new OnnxFile(opset: 6, irVersion: 3).Input("0", 1, 2, 3, 4).Output("1", 1, 24).Node("Flatten", ["0"], ["1"], "", Attr("axis", 1L));
        var imp = Import(f);
        var view = Assert.IsType<ReshapeNode>(Assert.Single(imp.Model.Nodes));
        Assert.Equal((new Shape(2, 3, 4), new Shape(24)), (view.Input.Shape, view.Output.Shape));
        MatchesReference(f, imp, [1, 2, 3, 4]);
    }
}

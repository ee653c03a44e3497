using Onnx;
using TinyOdl.Evaluation;
using TinyOdl.Frontends;
using TinyOdl.Frontends.Onnx;
using TinyOdl.Graph;
using TinyOdl.Tests.Support;
using static TinyOdl.Tests.Onnx.OnnxImportTests;

namespace TinyOdl.Tests.Onnx;

/// <summary>
/// The ONNX exporter (<see cref="OnnxModelWriter"/>): a model exported and imported again has the same nodes, names,
/// shapes, initial weight bits and loss, and the C# evaluator gives the same bits for both (predictions and training
/// steps); the exported graph means what the model computes by ONNX's own semantics (the float64 reference); the
/// committed examples/*.onnx are what exporting the JSON examples gives today, byte for byte.
/// </summary>
public sealed class OnnxExportTests
{
    private static Model Build(ModelBuilder b, Value prediction, bool softmax = true, SgdOptimizer? sgd = null) =>
        (softmax ? b.SoftmaxCrossEntropy("loss", prediction) : b.MseLoss("loss", prediction)).Build(sgd ?? new SgdOptimizer(0.05f, Momentum: 0.5f));

    /// <summary>Exports and imports <paramref name="model"/> (with its optimizer, which ONNX does not hold), as file NAME.onnx.</summary>
    private static (ModelProto Proto, OnnxImport Import) RoundTrip(Model model)
    {
        var bytes = OnnxModelWriter.Export(model).Bytes;
        var import = OnnxModelReader.Import(bytes, $"{model.Name}.onnx", new OnnxImportOptions { Optimizer = model.Optimizer });
        return (ModelProto.Parser.ParseFrom(bytes), import);
    }

    /// <summary>A node as text: op, name, inputs by name, output shape, precision and what the kind adds (window, groups, ...).</summary>
    private static string Signature(Node n)
    {
        string extra = n switch
        {
            Conv2dNode c => $" {c.Window} groups {c.Groups}",
            PoolNode p => $" {p.Kind} {p.Window} global {p.Global}" + (p.Kind == PoolKind.Average ? $" count_include_pad {p.CountIncludePad}" : ""),
            LeakyReluNode l => $" slope {BitConverter.SingleToUInt32Bits(l.Slope):x8}",
            _ => "",
        };
        return $"{n.OpName} {n.Name}({string.Join(", ", n.Inputs.Select(v => v.Name))}) -> {n.Output.Shape} {n.Precision}{extra}";
    }

    /// <summary>Same input, nodes, parameters (names, shapes, trainable flags, initial bits) and loss.</summary>
    private static void SameModel(Model expected, Model actual)
    {
        Assert.Equal((expected.Name, expected.Input.Name, expected.Input.Shape), (actual.Name, actual.Input.Name, actual.Input.Shape));
        Assert.Equal(expected.Nodes.Select(Signature), actual.Nodes.Select(Signature));
        Assert.Equal(expected.Parameters.Select(p => (p.Name, p.Value.Shape, p.Trainable)), actual.Parameters.Select(p => (p.Name, p.Value.Shape, p.Trainable)));
        for (int i = 0; i < expected.Parameters.Count; i++)
            Assert.True(Bits(expected.Parameters[i].Initial).SequenceEqual(Bits(actual.Parameters[i].Initial)), $"initial bits of {expected.Parameters[i].Name}");
        Assert.Equal(expected.Loss.GetType(), actual.Loss.GetType());
        Assert.Equal(expected.Prediction.Shape, actual.Prediction.Shape);
        Assert.Equal(expected.Optimizer, actual.Optimizer);
    }

    /// <summary>
    /// Both models compiled and run on the C# evaluator: <paramref name="trainSteps"/> training steps (losses bit for bit)
    /// interleaved with predictions (bit for bit), on seeded inputs and targets.
    /// </summary>
    private static void SameBits(Model expected, Model actual, int trainSteps = 3)
    {
        var a = new Evaluator(Pipeline.Compile(expected).Program);
        var b = new Evaluator(Pipeline.Compile(actual).Program);
        a.Init();
        b.Init();
        int inputs = expected.Input.Elements, outputs = expected.Prediction.Elements;
        var rng = new Random(3);
        for (int step = 0; step <= trainSteps; step++)
        {
            var x = OnnxFile.Random(100 + step, inputs);
            float[] ya = new float[outputs], yb = new float[outputs];
            a.Predict(x, ya);
            b.Predict(x, yb);
            Assert.True(Bits(ya).SequenceEqual(Bits(yb)), $"predictions differ before step {step}");
            if (step == trainSteps) break;
            int label = rng.Next(outputs);
            var target = expected.Loss is SoftmaxCrossEntropyLossNode
                ? Enumerable.Range(0, outputs).Select(i => i == label ? 1f : 0f).ToArray()
                : OnnxFile.Random(200 + step, outputs);
            Assert.Equal(BitConverter.SingleToUInt32Bits(a.TrainStep(x, target)), BitConverter.SingleToUInt32Bits(b.TrainStep(x, target)));
        }
    }

    [Fact]
    public void Linear_relu_leaky_relu_and_sigmoid_round_trip_with_a_softmax_cross_entropy_loss()
    {
        var b = new ModelBuilder("mlp", new Shape(12), seed: 4, inputName: "features");
        var h = b.Relu("relu1", b.Linear("fc1", b.Input, 9));
        h = b.LeakyRelu("leaky", b.Linear("fc2", h, 7, bias: false), slope: 0.2f);
        h = b.Sigmoid("sigmoid", b.Linear("fc3", h, 6));
        var m = Build(b, b.Linear("fc4", h, 4));
        var (proto, imp) = RoundTrip(m);

        SameModel(m, imp.Model);
        SameBits(m, imp.Model);
        Assert.Equal(["Gemm", "Relu", "Gemm", "LeakyRelu", "Gemm", "Sigmoid", "Gemm", "Softmax"], proto.Graph.Node.Select(n => n.OpType));
        Assert.Equal(OnnxFoldedOutput.Softmax, imp.FoldedOutput);
        Assert.Equal(["N", "12"], imp.Input.Dims);
        Assert.Equal(["N", "4"], imp.Output.Dims);
        Assert.Equal((OnnxModelWriter.Opset, OnnxModelWriter.IrVersion, "TinyOdl"), (proto.OpsetImport.Single().Version, proto.IrVersion, proto.ProducerName));
        MatchesReference(proto, imp, [3, 12]);
    }

    [Fact]
    public void Convolutions_pooling_batch_norm_and_views_round_trip_with_an_mse_loss()
    {
        var b = new ModelBuilder("cnn", new Shape(4, 9, 8), seed: 5);
        // Grouped conv with stride and uneven padding, then a batch norm with random statistics and epsilon 1e-3.
        var c = b.Conv2d("conv1", b.Input, 6, new Window2d(9, 8, 3, 2, StrideH: 2, StrideW: 1, PadTop: 1, PadLeft: 0, PadBottom: 2, PadRight: 1), groups: 2);
        var variance = OnnxFile.Random(1, 6).Select(v => 0.25f + Math.Abs(v)).ToArray();
        c = b.BatchNorm("bn1", c, 1e-3f, scale: OnnxFile.Random(2, 6), shift: OnnxFile.Random(3, 6), mean: OnnxFile.Random(4, 6), variance: variance);
        var s = c.Shape;
        c = b.Pool("max", c, PoolKind.Max, new Window2d(s[1], s[2], 3, 3, 1, 1, 1, 1, 1, 1));
        var avg = b.Pool("avg", c, PoolKind.Average, new Window2d(s[1], s[2], 2, 2, 2, 2, 1, 0, 0, 1), countIncludePad: true);
        var avg2 = b.Pool("avg2", avg, PoolKind.Average, new Window2d(avg.Shape[1], avg.Shape[2], 2, 2, 1, 1, 1, 1, 0, 0));
        var dw = b.Conv2d("depthwise", avg2, 6, new Window2d(avg2.Shape[1], avg2.Shape[2], 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), groups: 6, bias: false);
        var gap = b.GlobalAveragePool("gap", dw);
        var rows = b.Reshape("rows", gap, new Shape(2, 3));
        var flat = b.Flatten("flat", rows);
        var m = Build(b, b.Linear("fc", flat, 5), softmax: false);
        var (proto, imp) = RoundTrip(m);

        SameModel(m, imp.Model);
        SameBits(m, imp.Model);
        Assert.Equal(["Conv", "BatchNormalization", "MaxPool", "AveragePool", "AveragePool", "Conv", "GlobalAveragePool", "Reshape", "Flatten", "Gemm"],
            proto.Graph.Node.Select(n => n.OpType));
        Assert.Equal(OnnxFoldedOutput.None, imp.FoldedOutput);
        Assert.IsType<MseLossNode>(imp.Model.Loss);
        MatchesReference(proto, imp, [2, 4, 9, 8]);
    }

    [Fact]
    public void Residual_adds_round_trip_and_an_operand_of_lower_rank_gets_a_view_that_aligns_it_as_onnx_broadcasts()
    {
        var b = new ModelBuilder("residual", new Shape(4, 4, 4), seed: 6);
        var c = b.Conv2d("conv", b.Input, 4, new Window2d(4, 4, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1));
        var same = b.Add("skip", c, b.Input);                                   // [4, 4, 4] + [4, 4, 4]
        var gap = b.GlobalAveragePool("gap", same);
        var channel = b.Add("per_channel", same, gap);                          // [4, 4, 4] + [4, 1, 1]
        var row = b.Add("per_column", channel, b.Flatten("flat_gap", gap));     // [4, 4, 4] + [4]: ONNX needs [N, 1, 1, 4]
        var m = Build(b, b.Linear("fc", b.Flatten("flat", row), 3));
        var (proto, imp) = RoundTrip(m);

        var reshape = proto.Graph.Node.Single(n => n.Name == "per_column_b_reshape");
        Assert.Equal(("Reshape", "flat_gap"), (reshape.OpType, reshape.Input[0]));
        Assert.Equal(new long[] { 0, 1, 1, 4 }, proto.Graph.Initializer.Single(t => t.Name == reshape.Input[1]).Int64Data);
        // The import has that view as one more node; everything else is the model's.
        var view = Assert.IsType<ReshapeNode>(imp.Model.Nodes.Single(n => n.Name == "per_column_b_reshape"));
        Assert.Equal(new Shape(1, 1, 4), view.Output.Shape);
        Assert.Equal(m.Nodes.Select(n => n.Name).Where(n => n != "per_column"), imp.Model.Nodes.Select(n => n.Name).Where(n => n is not ("per_column" or "per_column_b_reshape")));
        var add = (AddNode)imp.Model.Nodes.Single(n => n.Name == "per_column");
        Assert.Equal(("per_channel", "per_column_b_reshape"), (add.A.Name, add.B.Name));
        SameBits(m, imp.Model);
        MatchesReference(proto, imp, [2, 4, 4, 4]);
    }

    [Fact]
    public void A_linear_layer_on_an_image_reads_it_through_a_flatten_which_imports_as_a_view()
    {
        var b = new ModelBuilder("head", new Shape(3, 4, 4), seed: 7);
        var c = b.Relu("relu", b.Conv2d("conv", b.Input, 2, new Window2d(4, 4, 3, 3)));
        var m = Build(b, b.Linear("fc", c, 5));
        var (proto, imp) = RoundTrip(m);

        Assert.Equal(["Conv", "Relu", "Flatten", "Gemm", "Softmax"], proto.Graph.Node.Select(n => n.OpType));
        Assert.Equal(["conv2d", "relu", "reshape", "linear"], imp.Model.Nodes.Select(n => n.OpName));
        Assert.Equal(("fc_flatten", new Shape(8)), (imp.Model.Nodes[2].Name, imp.Model.Nodes[2].Output.Shape));
        SameBits(m, imp.Model);
        MatchesReference(proto, imp, [2, 3, 4, 4]);
    }

    [Fact]
    public void Names_the_exporter_adds_avoid_the_models_names_and_every_model_name_survives_the_import()
    {
        var b = new ModelBuilder("names", new Shape(2, 2, 2), seed: 10);
        var bn = b.BatchNorm("bn", b.Input);
        var r = b.Relu("bn_var", bn);             // the name the exporter would give bn's variance
        var f = b.Relu("fc_flatten", r);           // ... and fc's Flatten
        var m = Build(b, b.Linear("fc", f, 3));
        var (proto, imp) = RoundTrip(m);

        Assert.Equal("bn_var_2", proto.Graph.Node.Single(n => n.Name == "bn").Input[4]);
        Assert.Equal(["bn", "bn_var", "fc_flatten", "fc_flatten_2", "fc"], imp.Model.Nodes.Select(n => n.Name));
        Assert.Equal(m.Parameters.Select(p => p.Name), imp.Model.Parameters.Select(p => p.Name));
        SameBits(m, imp.Model);
    }

    [Fact]
    public void A_softmax_loss_over_channels_of_an_image_shaped_prediction_is_a_softmax_along_that_axis()
    {
        var b = new ModelBuilder("conv_head", new Shape(2, 3, 3), seed: 8);
        var m = Build(b, b.Conv2d("classes", b.Input, 7, new Window2d(3, 3, 3, 3))); // [7, 1, 1]
        var (proto, imp) = RoundTrip(m);

        var softmax = proto.Graph.Node.Last();
        Assert.Equal(("Softmax", 1L), (softmax.OpType, softmax.Attribute.Single(a => a.Name == "axis").I));
        SameModel(m, imp.Model);
        SameBits(m, imp.Model);
        MatchesReference(proto, imp, [2, 2, 3, 3]);
    }

    [Fact]
    public void Frozen_parameters_come_back_trainable_and_batch_norm_statistics_frozen_as_the_importer_defaults_say()
    {
        var b = new ModelBuilder("frozen", new Shape(2, 3, 3), seed: 9);
        var c = b.Conv2d("conv", b.Input, 3, new Window2d(3, 3, 1, 1), trainWeight: false);
        c = b.BatchNorm("bn", c, trainScale: false);
        var m = Build(b, b.Linear("fc", b.Flatten("flat", c), 2, trainBias: false));
        var imp = RoundTrip(m).Import;

        Assert.Equal(m.Parameters.Select(p => p.Name), imp.Model.Parameters.Select(p => p.Name));
        Assert.Equal(["bn_mean", "bn_inv_std"], imp.Model.Parameters.Where(p => !p.Trainable).Select(p => p.Name));
        Assert.Equal(Bits(m.Parameters.SelectMany(p => p.Initial)), Bits(imp.Model.Parameters.SelectMany(p => p.Initial)));
        SameBits(m, imp.Model, trainSteps: 0);
    }

    [Fact]
    public void Every_inv_std_gets_a_variance_whose_import_gives_back_its_exact_bits()
    {
        var rng = new Random(12);
        var invStds = Enumerable.Range(0, 20000).Select(_ => MathF.ScaleB(1f + (float)rng.NextDouble(), rng.Next(-60, 60))).ToList();
        invStds.AddRange([1f, OnnxModelWriter.InvStd(1f, 1e-5f), OnnxModelWriter.InvStd(0f, 1e-5f), MathF.BitIncrement(OnnxModelWriter.InvStd(0f, 1e-5f)), 316.2f, 316.3f]);
        foreach (var s in invStds)
        {
            var withEpsilon = OnnxModelWriter.VarianceFor(s, 1e-5f);
            if (withEpsilon is { } v) Assert.True(OnnxModelWriter.InvStd(v, 1e-5f) == s && v >= 0f, $"inv_std {s:R}: var {v:R} with epsilon 1e-5");
            else Assert.True(s > 316f, $"inv_std {s:R} has no var >= 0 with epsilon 1e-5");
            var exact = OnnxModelWriter.VarianceFor(s, 0f);
            Assert.True(exact is { } e && OnnxModelWriter.InvStd(e, 0f) == s, $"inv_std {s:R} has no var with epsilon 0");
        }
        // The formula the writer inverts is the builder's (and so the importer's).
        var variances = OnnxFile.Random(13, 64).Select(v => MathF.ScaleB(Math.Abs(v), rng.Next(-20, 20))).ToArray();
        var b = new ModelBuilder("bn", new Shape(64, 1));
        var bn = b.BatchNorm("bn", b.Input, 1e-5f, variance: variances);
        Assert.Equal(Bits(variances.Select(v => OnnxModelWriter.InvStd(v, 1e-5f))), Bits(((BatchNormNode)b.MseLoss("loss", bn).Build(new SgdOptimizer(0.1f)).Nodes[0]).InvStd.Initial));
    }

    [Fact]
    public void A_batch_norm_whose_inv_std_needs_a_variance_below_zero_with_epsilon_1e_5_is_exported_with_epsilon_0()
    {
        var b = new ModelBuilder("sharp", new Shape(3, 2, 2));
        var bn = b.BatchNorm("bn", b.Input, epsilon: 1e-9f, variance: [0f, 1e-8f, 4f]); // inv_std 31623, 9535, 0.5
        var m = Build(b, b.Linear("fc", b.Flatten("flat", bn), 2), softmax: false);
        var (proto, imp) = RoundTrip(m);

        Assert.Equal(0f, proto.Graph.Node.Single(n => n.OpType == "BatchNormalization").Attribute.Single(a => a.Name == "epsilon").F);
        SameModel(m, imp.Model);
        SameBits(m, imp.Model);
    }

    [Fact]
    public void The_output_is_deterministic_and_batch_norm_defaults_export_as_epsilon_1e_5_and_var_1()
    {
        var b = new ModelBuilder("defaults", new Shape(2, 2, 2), seed: 3);
        var m = Build(b, b.Linear("fc", b.Flatten("flat", b.BatchNorm("bn", b.Input)), 2));
        var bytes = OnnxModelWriter.Export(m).Bytes;
        Assert.Equal(bytes, OnnxModelWriter.Export(m).Bytes);
        var proto = ModelProto.Parser.ParseFrom(bytes);
        Assert.Equal(1e-5f, proto.Graph.Node.Single(n => n.OpType == "BatchNormalization").Attribute.Single(a => a.Name == "epsilon").F);
        Assert.Equal([1f, 1f], OnnxTensors.ToFloat(proto.Graph.Initializer.Single(t => t.Name == "bn_var"), "bn_var").Values);
    }

    /// <summary>A node kind the exporter has never heard of (a newer op).</summary>
    private sealed record ExoticNode(string Name, Value Input, Value Output) : Node(Name, Output)
    {
        public override IEnumerable<Value> Inputs => [Input];
        public override string OpName => "exotic";
    }

    [Fact]
    public void Models_onnx_cannot_express_are_refused_naming_the_node()
    {
        // softmax_cross_entropy over a [2, 5] prediction: an opset 13 Softmax normalizes along one axis only.
        var b = new ModelBuilder("grid", new Shape(4));
        var grid = Build(b, b.Reshape("grid", b.Linear("fc", b.Input, 10), new Shape(2, 5)));
        var e = Assert.Throws<TinyOdlException>(() => OnnxModelWriter.Export(grid, "grid.json"));
        Assert.StartsWith("grid.json: node 'loss' (softmax_cross_entropy): cannot be exported to ONNX: its softmax covers all 10 elements of the prediction 'grid' [2x5]", e.Message);

        // An inv_std no float32 variance gives (var would be 1e60).
        b = new ModelBuilder("tiny", new Shape(2, 1));
        var m = Build(b, b.BatchNorm("bn", b.Input), softmax: false);
        var bn = (BatchNormNode)m.Nodes[0];
        var odd = bn with { InvStd = new Parameter(bn.InvStd.Value, [1e-30f, 1f], trainable: false) };
        var broken = new Model(m.Name, m.Input, m.Target, [bn.Scale, bn.Shift, bn.Mean, odd.InvStd], [odd], m.Loss, m.Optimizer);
        e = Assert.Throws<TinyOdlException>(() => OnnxModelWriter.Export(broken));
        Assert.StartsWith("node 'bn' (batch_norm): cannot be exported to ONNX: bn_inv_std[0] = 1E-30 is not 1/sqrt(var)", e.Message);

        // A node kind without an ONNX mapping.
        b = new ModelBuilder("future", new Shape(3));
        m = Build(b, b.Relu("act", b.Linear("fc", b.Input, 3)), softmax: false);
        var relu = (ReluNode)m.Nodes[1];
        var future = new Model(m.Name, m.Input, m.Target, m.Parameters, [m.Nodes[0], new ExoticNode(relu.Name, relu.Input, relu.Output)], m.Loss, m.Optimizer);
        e = Assert.Throws<TinyOdlException>(() => OnnxModelWriter.Export(future));
        Assert.Equal("node 'act' (exotic): cannot be exported to ONNX: the ONNX exporter has no mapping for 'exotic' nodes yet", e.Message);
    }

    [Theory]
    [InlineData("resnet8")]
    [InlineData("ds-cnn")]
    public void The_committed_example_onnx_files_are_what_exporting_the_json_gives(string name)
    {
        var json = JsonModelReader.Load(Path.Combine(Repo.Examples, name + ".json"));
        var onnx = Path.Combine(Repo.Examples, name + ".onnx");
        Assert.True(File.Exists(onnx), $"{onnx} is missing: run `make examples`");
        Assert.True(OnnxModelWriter.Export(json.Model).Bytes.AsSpan().SequenceEqual(File.ReadAllBytes(onnx)),
            $"{onnx} is stale: exporting {name}.json gives other bytes; run `make examples` and commit the result");
    }

    [Theory]
    [InlineData("resnet8")]
    [InlineData("ds-cnn")]
    public void The_example_onnx_files_import_as_their_json_models_and_give_the_same_bits(string name)
    {
        var json = JsonModelReader.Load(Path.Combine(Repo.Examples, name + ".json")).Model;
        var imp = OnnxModelReader.Import(Path.Combine(Repo.Examples, name + ".onnx"), new OnnxImportOptions { Optimizer = json.Optimizer });
        SameModel(json, imp.Model);
        Assert.Equal(OnnxFoldedOutput.Softmax, imp.FoldedOutput);
        // One training step of ResNet8 takes the evaluator about 10 s per model: predictions only for it.
        SameBits(json, imp.Model, trainSteps: name == "resnet8" ? 0 : 1);
    }
}

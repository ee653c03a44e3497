using Onnx;
using TinyOdl.Evaluation;
using TinyOdl.Frontends.Onnx;
using TinyOdl.Graph;
using TinyOdl.Passes;
using static TinyOdl.Tests.Onnx.OnnxFile;

namespace TinyOdl.Tests.Onnx;

/// <summary>
/// ONNX files written here are imported, checked for structure and bit-exact initial weights, compiled, and run
/// through the evaluator's predict; the result must match a float64 interpreter of the ONNX semantics
/// (<see cref="OnnxReference"/>) on a whole batch.
/// </summary>
public sealed class OnnxImportTests
{
    internal static OnnxImport Import(OnnxFile f, OnnxImportOptions? options = null, string path = "m.onnx") =>
        OnnxModelReader.Import(f.Bytes(), path, options);

    internal static uint[] Bits(IEnumerable<float> values) => values.Select(BitConverter.SingleToUInt32Bits).ToArray();

    private static LinearNode[] Linears(Model m) => m.Nodes.OfType<LinearNode>().ToArray();

    /// <summary>
    /// Runs the compiled model on every sample of <paramref name="batch"/> (evaluator, float32) and the ONNX graph on
    /// the whole batch (float64), and compares: 1e-5 relative + 1e-5 absolute.
    /// </summary>
    internal static void MatchesReference(OnnxFile f, OnnxImport imp, long[] inputDims, int seed = 11) =>
        MatchesReference(f.Model, imp, inputDims, seed);

    /// <inheritdoc cref="MatchesReference(OnnxFile, OnnxImport, long[], int)"/>
    internal static void MatchesReference(ModelProto model, OnnxImport imp, long[] inputDims, int seed = 11)
    {
        int count = (int)inputDims.Aggregate(1L, (a, b) => a * b);
        var x = Random(seed, count);
        var expected = OnnxReference.Run(model, new Dictionary<string, RefTensor> { [imp.Input.OnnxName] = RefTensor.Of(inputDims, x) })[imp.Output.OnnxName];

        var samples = Conformance.Split(new OnnxTensor("x", inputDims, x), imp.Input, "input");
        var compiled = Pipeline.Compile(imp.Model);
        var predictions = new EvaluatorRunner().Predict(compiled, samples);
        int size = imp.Output.SampleShape.Elements;
        Assert.Equal(expected.Count, predictions.Count * size);
        for (int s = 0; s < predictions.Count; s++)
        {
            var got = Conformance.Apply(imp.FoldedOutput, predictions[s]);
            for (int i = 0; i < size; i++)
            {
                double e = expected.Data[s * size + i];
                Assert.True(Math.Abs(got[i] - e) <= 1e-5 * Math.Abs(e) + 1e-5, $"sample {s} element {i}: {got[i]:R} vs reference {e:R}");
            }
        }
    }

    [Fact]
    public void Gemm_with_transB_1_is_one_linear_layer_with_the_files_weights_and_bias()
    {
        var w = Random(1, 3 * 5);
        var c = Random(2, 3);
        var f = new OnnxFile()
            .Input("x", "N", 5).Output("y", "N", 3)
            .Initializer("fc1.weight", [3, 5], w).Initializer("fc1.bias", [3], c)
            .Node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["y"], "fc1", Attr("transB", 1L), Attr("alpha", 1f), Attr("beta", 1f));
        var imp = Import(f);
        var m = imp.Model;

        var fc = Assert.Single(Linears(m));
        Assert.Single(m.Nodes);
        Assert.Equal("fc1", fc.Name);
        Assert.Equal((5, 3), (fc.InFeatures, fc.OutFeatures));
        Assert.Equal(new Shape(3, 5), fc.Weight.Value.Shape);
        Assert.Equal(Bits(w), Bits(fc.Weight.Initial));
        Assert.Equal(Bits(c), Bits(fc.Bias!.Initial));
        Assert.True(fc.Weight.Trainable && fc.Bias.Trainable);
        Assert.Equal(new Shape(5), m.Input.Shape);
        Assert.Equal("x", m.Input.Name);
        Assert.Equal("m", m.Name);

        // Defaults: no final Softmax, so mse; SGD at 0.01.
        Assert.IsType<MseLossNode>(m.Loss);
        Assert.Equal(new SgdOptimizer(0.01f), m.Optimizer);
        Assert.Equal(OnnxFoldedOutput.None, imp.FoldedOutput);
        Assert.Equal(new OnnxBinding("x", ["N", "5"], true, new Shape(5)), imp.Input, new BindingComparer());
        Assert.Equal(13, imp.Opset);

        MatchesReference(f, imp, [4, 5]);
    }

    [Fact]
    public void Gemm_with_transB_0_has_its_K_by_N_matrix_transposed_to_out_by_in()
    {
        var b = Random(3, 5 * 3); // [K=5, N=3], stored as raw_data
        var f = new OnnxFile()
            .Input("x", 1, 5).Output("y", 1, 3)
            .Initializer("B", [5, 3], b, raw: true).Initializer("C", [1, 3], Random(4, 3), raw: true)
            .Node("Gemm", ["x", "B", "C"], ["y"], "dense");
        var imp = Import(f);
        var fc = Assert.Single(Linears(imp.Model));
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < 5; i++)
                Assert.Equal(BitConverter.SingleToUInt32Bits(b[i * 3 + o]), BitConverter.SingleToUInt32Bits(fc.Weight.Initial[o * 5 + i]));
        Assert.Equal(Bits(Random(4, 3)), Bits(fc.Bias!.Initial));
        MatchesReference(f, imp, [1, 5]);
    }

    [Fact]
    public void MatMul_then_Add_of_a_vector_is_one_linear_layer_with_bias()
    {
        var b = Random(5, 4 * 6);
        var bias = Random(6, 6);
        var f = new OnnxFile()
            .Input("x", "batch", 4).Output("y", "batch", 6)
            .Initializer("W", [4, 6], b).Initializer("b", [6], bias)
            .Node("MatMul", ["x", "W"], ["xw"], "/fc/MatMul")
            .Node("Add", ["b", "xw"], ["y"], "/fc/Add"); // the bias first: Add commutes
        var imp = Import(f);
        var fc = Assert.Single(Linears(imp.Model));
        Assert.Single(imp.Model.Nodes);
        Assert.Equal("fc_MatMul", fc.Name);
        Assert.Equal(Bits(bias), Bits(fc.Bias!.Initial));
        Assert.Equal(b[1 * 6 + 2], fc.Weight.Initial[2 * 4 + 1]); // W[out=2][in=1] = B[k=1][n=2]
        MatchesReference(f, imp, [3, 4]);
    }

    [Fact]
    public void MatMul_alone_is_a_linear_layer_without_bias()
    {
        var f = new OnnxFile()
            .Input("x", "N", 4).Output("y", "N", 2)
            .Initializer("W", [4, 2], Random(7, 8))
            .Node("MatMul", ["x", "W"], ["y"], "proj");
        var imp = Import(f);
        var fc = Assert.Single(Linears(imp.Model));
        Assert.Null(fc.Bias);
        Assert.Single(imp.Model.Parameters);
        MatchesReference(f, imp, [2, 4]);
    }

    [Fact]
    public void A_vector_input_without_batch_dimension_works_with_MatMul()
    {
        var f = new OnnxFile()
            .Input("x", 4).Output("y", 3)
            .Initializer("W", [4, 3], Random(8, 12)).Initializer("b", [3], Random(9, 3))
            .Node("MatMul", ["x", "W"], ["h"], "mm").Node("Add", ["h", "b"], ["y"], "bias");
        var imp = Import(f);
        Assert.False(imp.Input.Batched);
        Assert.NotNull(Assert.Single(Linears(imp.Model)).Bias);
        MatchesReference(f, imp, [4]);
    }

    [Fact]
    public void Mlp_with_Flatten_Relu_Dropout_and_a_final_LogSoftmax_trains_with_softmax_cross_entropy()
    {
        var f = new OnnxFile()
            .Input("image", "N", 2, 3, 2).Output("logp", "N", 4)
            .Initializer("w1", [8, 12], Random(10, 96)).Initializer("b1", [8], Random(11, 8))
            .Initializer("w2", [8, 4], Random(12, 32), raw: true).Initializer("b2", [4], Random(13, 4))
            .Node("Flatten", ["image"], ["flat"], "flatten", Attr("axis", 1L))
            .Node("Gemm", ["flat", "w1", "b1"], ["h"], "fc1", Attr("transB", 1L))
            .Node("Relu", ["h"], ["r"], "relu1")
            .Node("Dropout", ["r"], ["d"], "drop", Attr("seed", 3L))
            .Node("Gemm", ["d", "w2", "b2"], ["z"], "fc2")
            .Node("LogSoftmax", ["z"], ["logp"], "out", Attr("axis", 1L));
        var imp = Import(f);
        var m = imp.Model;
        Assert.Equal(["reshape", "linear", "relu", "linear"], m.Nodes.Select(n => n.OpName));
        Assert.Equal(["flatten", "fc1", "relu1", "fc2"], m.Nodes.Select(n => n.Name));
        Assert.Equal(new Shape(12), m.Nodes[0].Output.Shape); // [N, 2, 3, 2] flattened: a view of the sample
        Assert.IsType<SoftmaxCrossEntropyLossNode>(m.Loss);
        Assert.Equal(OnnxFoldedOutput.LogSoftmax, imp.FoldedOutput);
        Assert.Equal(new Shape(2, 3, 2), m.Input.Shape);
        Assert.Equal(12, Linears(m)[0].InFeatures);
        Assert.Equal(4, m.Prediction.Elements);
        MatchesReference(f, imp, [3, 2, 3, 2]);
    }

    [Fact]
    public void A_final_Softmax_is_folded_too_and_the_loss_can_be_chosen()
    {
        OnnxFile File(string last) => new OnnxFile(opset: 11)
            .Input("x", "N", 6).Output("p", "N", 3)
            .Initializer("W", [3, 6], Random(14, 18)).Initializer("c", [3], Random(15, 3))
            .Node("Gemm", ["x", "W", "c"], ["z"], "fc", Attr("transB", 1L))
            .Node(last, ["z"], ["p"], "sm");
        var imp = Import(File("Softmax"));
        Assert.Equal(OnnxFoldedOutput.Softmax, imp.FoldedOutput);
        Assert.IsType<SoftmaxCrossEntropyLossNode>(imp.Model.Loss);
        MatchesReference(File("Softmax"), imp, [5, 6]);

        // Without a final softmax the default is mse; softmax_cross_entropy on request.
        var relu = Import(File("Relu"), new OnnxImportOptions { Loss = LossKind.SoftmaxCrossEntropy, Optimizer = new SgdOptimizer(0.05f, Momentum: 0.9f) });
        Assert.IsType<SoftmaxCrossEntropyLossNode>(relu.Model.Loss);
        Assert.Equal(OnnxFoldedOutput.None, relu.FoldedOutput);
        Assert.Equal(new SgdOptimizer(0.05f, 0.9f), relu.Model.Optimizer);

        // A softmax folded into mse would change the model: an error, naming the node.
        var e = Assert.Throws<TinyOdlException>(() => Import(File("Softmax"), new OnnxImportOptions { Loss = LossKind.MeanSquaredError }));
        Assert.StartsWith("m.onnx: node 'sm' (Softmax, opset 11): ", e.Message);
        Assert.Contains("mse", e.Message);
    }

    [Fact]
    public void Pytorch_0_3_style_file_with_unnamed_nodes_Reshape_Transpose_and_legacy_attributes()
    {
        // Opset 6, IR 3: initializers also listed as graph inputs, nodes without names, Gemm broadcast=1,
        // Dropout with is_test=1, the weight transposed by a Transpose node, bias added with a legacy broadcast Add.
        var w = Random(16, 5 * 12);
        var f = new OnnxFile(opset: 6, irVersion: 3)
            .Input("0", 2, 3, 4).Input("1", 5, 12).Input("2", 5).Input("shape", 2).Output("5", 2, 5)
            .Initializer("1", [5, 12], w).Initializer("2", [5], Random(17, 5)).Int64Initializer("shape", -1, 12)
            .Initializer("W2", [5, 5], Random(18, 25)).Initializer("b2", [5], Random(19, 5))
            .Node("Reshape", ["0", "shape"], ["3"])
            .Node("Gemm", ["3", "1", "2"], ["4"], "", Attr("alpha", 1f), Attr("beta", 1f), Attr("broadcast", 1L), Attr("transB", 1L))
            .Node("Dropout", ["4"], ["d", "mask"], "", Attr("is_test", 1L), Attr("ratio", 0.5f))
            .Node("Relu", ["d"], ["r"])
            .Node("Transpose", ["W2"], ["W2t"], "", Attr("perm", new long[] { 1, 0 }))
            .Node("MatMul", ["r", "W2t"], ["mm"])
            .Node("Add", ["mm", "b2"], ["sum"], "", Attr("broadcast", 1L), Attr("axis", 1L))
            .Node("Identity", ["sum"], ["5"]);
        var imp = Import(f, path: "dir/pytorch-export.onnx");
        var m = imp.Model;
        Assert.Equal("pytorch_export", m.Name);
        Assert.Equal("input", m.Input.Name); // "0" is not an identifier
        Assert.Equal(["Reshape_0", "Gemm_1", "Relu_3", "MatMul_5"], m.Nodes.Select(n => n.Name));
        var fc = Linears(m);
        Assert.Equal(Bits(w), Bits(fc[0].Weight.Initial));
        Assert.Equal(Bits(Random(18, 25)), Bits(fc[1].Weight.Initial)); // transposed twice: MatMul(x, W2^T) is Linear with W2
        Assert.Equal(Bits(Random(19, 5)), Bits(fc[1].Bias!.Initial));
        Assert.Equal(new Shape(3, 4), m.Input.Shape);
        Assert.Equal(["2", "3", "4"], imp.Input.Dims);
        MatchesReference(f, imp, [2, 3, 4]);
    }

    [Fact]
    public void Reshape_that_keeps_the_batch_and_dead_nodes_are_accepted()
    {
        var f = new OnnxFile()
            .Input("x", "N", 2, 4).Output("y", "N", 3)
            .Int64Initializer("flat", 0, -1)
            .Initializer("W", [3, 8], Random(20, 24))
            .Node("Reshape", ["x", "flat"], ["xf"], "reshape")
            .Node("Conv", ["x", "W"], ["unused"], "dead_conv") // not on the path to the output: ignored
            .Node("Gemm", ["xf", "W"], ["y"], "fc", Attr("transB", 1L));
        var imp = Import(f);
        Assert.Null(Assert.Single(Linears(imp.Model)).Bias);
        MatchesReference(f, imp, [3, 2, 4]);
    }

    [Fact]
    public void A_residual_block_with_LeakyRelu_maps_to_add_and_leaky_relu_nodes()
    {
        var f = new OnnxFile()
            .Input("x", "N", 4).Output("y", "N", 4)
            .Initializer("w1", [4, 4], Random(22, 16)).Initializer("b1", [4], Random(23, 4))
            .Initializer("w2", [4, 4], Random(24, 16)).Initializer("b2", [4], Random(25, 4))
            .Node("Gemm", ["x", "w1", "b1"], ["h1"], "fc1", Attr("transB", 1L))
            .Node("LeakyRelu", ["h1"], ["a1"], "act1", Attr("alpha", 0.2f))
            .Node("Gemm", ["a1", "w2", "b2"], ["h2"], "fc2", Attr("transB", 1L))
            .Node("Add", ["h2", "a1"], ["s"], "residual")
            .Node("LeakyRelu", ["s"], ["y"], "act2");
        var imp = Import(f);
        var m = imp.Model;
        Assert.Equal(["linear", "leaky_relu", "linear", "add", "leaky_relu"], m.Nodes.Select(n => n.OpName));
        Assert.Equal(0.2f, ((LeakyReluNode)m.Nodes[1]).Slope);
        Assert.Equal(0.01f, ((LeakyReluNode)m.Nodes[4]).Slope); // ONNX's default alpha
        var add = (AddNode)m.Nodes[3];
        Assert.Equal(("fc2", "act1"), (add.A.Name, add.B.Name));
        MatchesReference(f, imp, [5, 4]);
    }

    [Fact]
    public void A_model_of_only_Relu_has_no_parameters_and_still_compiles()
    {
        var f = new OnnxFile().Input("x", "N", 3, 2).Output("y", "N", 3, 2).Node("Relu", ["x"], ["y"], "r");
        var imp = Import(f);
        Assert.Empty(imp.Model.Parameters);
        Assert.Equal(new Shape(3, 2), imp.Output.SampleShape);
        MatchesReference(f, imp, [4, 3, 2]);
    }

    [Fact]
    public void Precision_option_applies_to_every_layer_and_the_default_name_comes_from_the_file()
    {
        var f = new OnnxFile()
            .Input("x", 1, 4).Output("y", 1, 2)
            .Initializer("W", [2, 4], [0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f])
            .Node("Gemm", ["x", "W"], ["h"], "fc", Attr("transB", 1L)).Node("Relu", ["h"], ["y"], "act");
        var imp = Import(f, new OnnxImportOptions { Precision = Precision.Fp16 }, path: "my model-v2.onnx");
        Assert.All(imp.Model.Nodes, n => Assert.Equal(Precision.Fp16, n.Precision));
        Assert.Equal("my_model_v2", imp.Model.Name);
        Assert.Equal(DataType.Float16, Linears(imp.Model)[0].Weight.Value.Type);
        Assert.Equal("renamed", Import(f, new OnnxImportOptions { Name = "renamed" }).Model.Name);
    }

    [Fact]
    public void Load_reads_the_file_and_returns_the_document()
    {
        using var tmp = new Support.TempDir();
        var path = new OnnxFile()
            .Input("x", "N", 3).Output("y", "N", 2)
            .Initializer("W", [2, 3], Random(21, 6))
            .Node("Gemm", ["x", "W"], ["y"], "fc", Attr("transB", 1L))
            .Save(tmp.File("net.onnx"));
        var doc = OnnxModelReader.Load(path);
        Assert.Equal(path, doc.SourcePath);
        Assert.Equal("net", doc.Model.Name);
        Assert.Null(doc.Training.Dataset);
        var compiled = Pipeline.Compile(doc.Model);
        Assert.Equal((3, 2), (compiled.Program.InputSize, compiled.Program.OutputSize));
    }

    /// <summary>Records with list members compare lists by reference; compare bindings by content.</summary>
    private sealed class BindingComparer : IEqualityComparer<OnnxBinding>
    {
        public bool Equals(OnnxBinding? a, OnnxBinding? b) =>
            a is not null && b is not null && a.OnnxName == b.OnnxName && a.Dims.SequenceEqual(b.Dims) && a.Batched == b.Batched && a.SampleShape == b.SampleShape;
        public int GetHashCode(OnnxBinding b) => b.OnnxName.GetHashCode();
    }
}

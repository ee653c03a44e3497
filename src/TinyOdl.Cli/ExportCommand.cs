using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TinyOdl.Frontends;
using TinyOdl.Frontends.Onnx;
using TinyOdl.Graph;

namespace TinyOdl.Cli;

/// <summary>`tinyodl export model.json -o model.onnx`: the model as an ONNX inference graph with its initial weights.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = CommonOptions.ModelArgument();
        var output = new Option<string>("--output", "-o") { Description = "ONNX file to write (.onnx; replaced if it exists)", Required = true };
        var cmd = new Command("export", "Write a model as an ONNX inference graph (opset 13, batch dimension N) with its initial weights as initializers")
        {
            model, output,
        };
        cmd.SetAction(r => Run(r.GetValue(model)!, r.GetValue(output)!));
        return cmd;
    }

    private static int Run(string modelPath, string outPath)
    {
        var doc = CommonOptions.LoadModel(modelPath, precision: null);
        var export = OnnxModelWriter.Write(doc.Model, outPath, modelPath);
        AnsiConsole.MarkupLine($"Exported model '{Markup.Escape(doc.Model.Name)}' to [bold]{Markup.Escape(outPath)}[/]: ONNX opset {OnnxModelWriter.Opset}, " +
            $"{export.Nodes} nodes, {export.Initializers} initializers, {export.Bytes.Length:N0} bytes.");
        var lost = NotExported(doc);
        if (lost.Count > 0)
        {
            AnsiConsole.WriteLine("Not stored in ONNX (importing the file gives the importer's defaults instead):");
            foreach (var what in lost) AnsiConsole.WriteLine($"  - {what}");
        }
        return 0;
    }

    /// <summary>What the model file says that an ONNX file cannot, where it differs from what the importer assumes.</summary>
    private static List<string> NotExported(ModelDocument doc)
    {
        var model = doc.Model;
        var lost = new List<string>();
        var sgd = model.Optimizer;
        if (sgd != OnnxImportOptions.Default.Optimizer)
            lost.Add(string.Create(CultureInfo.InvariantCulture, $"optimizer: SGD learning rate {sgd.LearningRate}") +
                (sgd.HasMomentum ? string.Create(CultureInfo.InvariantCulture, $", momentum {sgd.Momentum}") : "") +
                (sgd.HasWeightDecay ? string.Create(CultureInfo.InvariantCulture, $", weight decay {sgd.WeightDecay}") : "") +
                (sgd.HasLossScale ? string.Create(CultureInfo.InvariantCulture, $", loss scale {sgd.LossScale}") : ""));
        var statistics = model.Nodes.OfType<BatchNormNode>().SelectMany(b => new[] { b.Mean, b.InvStd }).ToHashSet();
        var frozen = model.Parameters.Where(p => !p.Trainable && !statistics.Contains(p)).Select(p => p.Name).ToList();
        if (frozen.Count > 0) lost.Add($"frozen parameters (imported as trainable): {string.Join(", ", frozen)}");
        var precisions = model.Nodes.Where(n => n is not ReshapeNode).Select(n => n.Precision).Distinct().ToList();
        if (precisions.Any(p => p != Precision.Fp32))
            lost.Add($"precision {string.Join(", ", precisions.Select(p => p.Name()))} (the file holds the exact weights as float32; give --precision when compiling it)");
        if (doc.Training != OnnxImportOptions.Default.Training) lost.Add("the training section (data set and schedule; imported models train on synthetic data)");
        return lost;
    }
}

using System.Text.Json.Nodes;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.CliTests;

using Cli = TinyOdl.Tests.Support.Cli;

/// <summary>
/// `tinyodl export model.json -o model.onnx` through the real CLI: it writes the file the examples hold, the file
/// compiles, and bad input is one line on stderr with exit code 2 and no file written or replaced.
/// </summary>
public sealed class ExportCommandTests
{
    private static readonly string Small = CliExpect.SmallModel().ToJsonString();

    [Fact]
    public void Export_writes_the_committed_example_byte_for_byte_and_says_what_onnx_does_not_hold()
    {
        using var tmp = new TempDir();
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "export", Path.Combine(Repo.Examples, "ds-cnn.json"), "-o", "ds-cnn.onnx");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        Assert.Equal(File.ReadAllBytes(Path.Combine(Repo.Examples, "ds-cnn.onnx")), File.ReadAllBytes(tmp.File("ds-cnn.onnx")));
        var text = CliExpect.Flat(r.Stdout);
        Assert.Contains("Exported model 'ds_cnn' to ds-cnn.onnx: ONNX opset 13, 31 nodes, 47 initializers", text);
        Assert.Contains("optimizer: SGD learning rate 0.01, momentum 0.9", text);
        CliExpect.OnlyEntries(tmp.Path, "ds-cnn.onnx");
    }

    [Fact]
    public void An_exported_model_compiles_and_a_second_export_replaces_the_file()
    {
        using var tmp = new TempDir();
        var m = CliExpect.SmallModel();
        m["optimizer"]!["learning_rate"] = 0.01; // with mse and no data set: all the importer assumes
        File.WriteAllText(tmp.File("small.json"), m.ToJsonString());
        File.WriteAllText(tmp.File("small.onnx"), "an older file");
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "export", "small.json", "-o", "small.onnx");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        Assert.DoesNotContain("Not stored in ONNX", r.Stdout);
        r = Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", "small.onnx", "-o", "out");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        Assert.Contains("Model 'small'", CliExpect.Flat(r.Stdout));
        CliExpect.OnlyEntries(tmp.Path, "small.json", "small.onnx", "out");
    }

    /// <summary>Runs `export ARGS` in a folder holding model.json (<paramref name="model"/>) and an existing out.onnx, expects a user error that leaves both as they were.</summary>
    private static void FailsCleanly(string model, string[] args, params string[] fragments)
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("model.json"), model);
        File.WriteAllText(tmp.File("out.onnx"), "kept");
        var before = CliExpect.Snapshot(tmp.Path);
        CliExpect.UserError(Cli.Run(tmp.Path, CliExpect.NoEnv, ["export", .. args]), fragments);
        Assert.Equal(before, CliExpect.Snapshot(tmp.Path));
    }

    [Fact]
    public void A_model_onnx_cannot_express_is_refused_naming_the_node()
    {
        var m = CliExpect.SmallModel();
        m["layers"]!.AsArray().Add(new JsonObject { ["name"] = "grid", ["op"] = "reshape", ["shape"] = new JsonArray(1, 3) });
        m["layers"]!.AsArray().Add(new JsonObject { ["name"] = "wide", ["op"] = "linear", ["out_features"] = 6 });
        m["layers"]!.AsArray().Add(new JsonObject { ["name"] = "grid2", ["op"] = "reshape", ["shape"] = new JsonArray(2, 3) });
        m["loss"] = new JsonObject { ["op"] = "softmax_cross_entropy" };
        FailsCleanly(m.ToJsonString(), ["model.json", "-o", "out.onnx"],
            "model.json: node 'loss' (softmax_cross_entropy): cannot be exported to ONNX: its softmax covers all 6 elements of the prediction 'grid2' [2x3]");
    }

    [Fact]
    public void Bad_model_files_and_outputs_are_one_line_errors()
    {
        FailsCleanly(Small, ["missing.json", "-o", "out.onnx"], "missing.json", "not found");
        FailsCleanly(Small[..(Small.Length / 2)], ["model.json", "-o", "out.onnx"], "model.json", "invalid JSON");
        FailsCleanly(Small, ["model.json", "-o", "model.txt"], "model.txt: the output file needs the .onnx extension");
        FailsCleanly(Small, ["model.json", "-o", "."], ".: the output file needs the .onnx extension");
        FailsCleanly(Small, ["model.json"], "--output");
    }

    [Fact]
    public void An_output_that_is_a_folder_is_refused()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("model.json"), Small);
        Directory.CreateDirectory(tmp.File("dir.onnx"));
        CliExpect.UserError(Cli.Run(tmp.Path, CliExpect.NoEnv, "export", "model.json", "-o", "dir.onnx"), "dir.onnx: is a folder");
        CliExpect.OnlyEntries(tmp.Path, "model.json", "dir.onnx");
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp.File("dir.onnx")));
    }
}

using System.Text.Json.Nodes;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.CliTests;

using Cli = TinyOdl.Tests.Support.Cli;

/// <summary>
/// Bad input through the real CLI process: exit code 2, one line on stderr naming the file, node or field and
/// the reason, no stack trace, and nothing left behind (no output folder, no .NAME.tinyodl-PID staging folder).
/// Every test works in its own temporary folder, which is also the CLI's working directory.
/// </summary>
public sealed class BadInputTests(TinyRamHome tinyRam) : IClassFixture<TinyRamHome>
{
    private const string ModelFile = "model.json";
    private const string OutDir = "out";

    /// <summary>Writes <paramref name="modelText"/> as model.json, runs `compile model.json -o out ARGS`.</summary>
    private static Cli.Result Compile(TempDir tmp, string modelText, IReadOnlyDictionary<string, string>? env = null, params string[] args)
    {
        File.WriteAllText(tmp.File(ModelFile), modelText);
        return Cli.Run(tmp.Path, env, ["compile", ModelFile, "-o", OutDir, .. args]);
    }

    private static string CompileFailsCleanly(string modelText, string[] args, params string[] fragments)
    {
        using var tmp = new TempDir();
        var r = Compile(tmp, modelText, null, args);
        var line = CliExpect.UserError(r, fragments);
        CliExpect.OnlyEntries(tmp.Path, ModelFile);
        return line;
    }

    private static string Json(JsonObject model) => model.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });

    [Fact]
    public void Truncated_json_names_the_file_and_position()
    {
        var text = File.ReadAllText(Path.Combine(Repo.Examples, "digits-mlp.json"));
        var line = CompileFailsCleanly(text[..(text.Length / 2)], [], ModelFile, "invalid JSON", "line ");
        Assert.StartsWith("tinyodl: error: ", line);
    }

    [Fact]
    public void Unknown_op_names_the_layer_and_lists_the_supported_ops()
    {
        var m = CliExpect.SmallModel();
        CliExpect.Layer(m, 1)["op"] = "conv3d";
        CompileFailsCleanly(Json(m), [], ModelFile, "layers[1] (relu1).op", "unknown op 'conv3d'", "linear", "conv2d", "relu");
    }

    [Fact]
    public void In_features_that_disagree_with_the_input_are_a_shape_mismatch()
    {
        var m = CliExpect.SmallModel();
        CliExpect.Layer(m, 0)["in_features"] = 5; // the input has 7
        CompileFailsCleanly(Json(m), [], ModelFile, "layers[0] (fc1).in_features", "shape mismatch", "5", "7");
    }

    [Fact]
    public void In_features_of_a_later_layer_are_checked_against_the_previous_layer()
    {
        var m = CliExpect.SmallModel();
        CliExpect.Layer(m, 2)["in_features"] = 7; // relu1 has 5
        CompileFailsCleanly(Json(m), [], ModelFile, "layers[2] (fc2).in_features", "shape mismatch", "relu1");
    }

    [Fact]
    public void Explicit_weights_of_the_wrong_length_are_a_shape_mismatch()
    {
        var m = CliExpect.SmallModel();
        CliExpect.Layer(m, 0)["weights"] = new JsonObject { ["weight"] = new JsonArray(Enumerable.Range(0, 34).Select(i => (JsonNode)(i * 0.01)).ToArray()) };
        CompileFailsCleanly(Json(m), [], ModelFile, "layers[0] (fc1).weights.weight", "shape mismatch", "34", "35");
    }

    [Fact]
    public void Explicit_bias_of_the_wrong_length_is_a_shape_mismatch()
    {
        var m = CliExpect.SmallModel();
        CliExpect.Layer(m, 2)["weights"] = new JsonObject { ["bias"] = new JsonArray(0.5, -0.5) };
        CompileFailsCleanly(Json(m), [], ModelFile, "layers[2] (fc2).weights.bias", "shape mismatch", "2", "3");
    }

    [Fact]
    public void Missing_model_file()
    {
        using var tmp = new TempDir();
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", "no-such-model.json", "-o", OutDir);
        CliExpect.UserError(r, "no-such-model.json", "not found");
        CliExpect.OnlyEntries(tmp.Path);
    }

    [Fact]
    public void Missing_model_file_for_verify()
    {
        using var tmp = new TempDir();
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "verify", "no-such-model.json");
        CliExpect.UserError(r, "no-such-model.json", "not found");
        CliExpect.OnlyEntries(tmp.Path);
    }

    [Fact]
    public void Unknown_board_lists_the_available_ones()
    {
        CompileFailsCleanly(Json(CliExpect.SmallModel()), ["--board", "no-such-board"], "--board", "no-such-board", "unknown board", "qemu-virt-rv32");
    }

    [Fact]
    public void Board_name_with_a_path_is_rejected()
    {
        CompileFailsCleanly(Json(CliExpect.SmallModel()), ["--board", "../boards/qemu-virt-rv32"], "--board", "unknown board");
    }

    [Fact]
    public void Unknown_field_in_a_layer_names_it_and_lists_the_known_ones()
    {
        var m = CliExpect.SmallModel();
        CliExpect.Layer(m, 0)["activation"] = "relu";
        CompileFailsCleanly(Json(m), [], ModelFile, "layers[0] (fc1).activation", "unknown field", "out_features");
    }

    [Fact]
    public void Unknown_top_level_field()
    {
        var m = CliExpect.SmallModel();
        m["epochs"] = 3; // belongs in "training"
        CompileFailsCleanly(Json(m), [], ModelFile, "epochs", "unknown field");
    }

    [Fact]
    public void Wrong_type_for_out_features()
    {
        var m = CliExpect.SmallModel();
        CliExpect.Layer(m, 0)["out_features"] = "ten";
        CompileFailsCleanly(Json(m), [], ModelFile, "layers[0] (fc1).out_features", "must be an integer");
    }

    [Fact]
    public void Wrong_type_for_the_learning_rate()
    {
        var m = CliExpect.SmallModel();
        m["optimizer"]!["learning_rate"] = "0.1";
        CompileFailsCleanly(Json(m), [], ModelFile, "optimizer.learning_rate", "must be a number");
    }

    [Fact]
    public void Negative_learning_rate()
    {
        var m = CliExpect.SmallModel();
        m["optimizer"]!["learning_rate"] = -0.1;
        CompileFailsCleanly(Json(m), [], ModelFile, "learning_rate", "positive");
    }

    [Fact]
    public void Layer_name_used_twice()
    {
        var m = CliExpect.SmallModel();
        CliExpect.Layer(m, 2)["name"] = "fc1";
        CompileFailsCleanly(Json(m), [], ModelFile, "layers[2] (fc1)", "used twice");
    }

    [Fact]
    public void Missing_required_field()
    {
        var m = CliExpect.SmallModel();
        m.Remove("loss");
        CompileFailsCleanly(Json(m), [], ModelFile, "loss", "missing required field");
    }

    [Fact]
    public void Missing_data_set_file_referenced_by_the_model()
    {
        var m = CliExpect.SmallModel();
        m["training"] = new JsonObject { ["dataset"] = new JsonObject { ["csv"] = "missing-data.csv.gz", ["classes"] = 3 } };
        CompileFailsCleanly(Json(m), [], "missing-data.csv.gz", "not found");
    }

    [Fact]
    public void Arena_larger_than_the_boards_RAM()
    {
        // 64 -> 32 -> 10 with momentum: about 29 KB of arena, the board has 16 KiB.
        var m = CliExpect.SmallModel("too_big");
        m["input"]!["shape"] = new JsonArray(64);
        CliExpect.Layer(m, 0)["out_features"] = 32;
        CliExpect.Layer(m, 2)["out_features"] = 10;
        m["optimizer"]!["momentum"] = 0.9;

        using var tmp = new TempDir();
        var r = Compile(tmp, Json(m), tinyRam.Env, "--board", TinyRamHome.BoardName);
        CliExpect.UserError(r, "too_big", "arena", TinyRamHome.BoardName, TinyRamHome.RamBytes.ToString());
        CliExpect.OnlyEntries(tmp.Path, ModelFile);

        var verify = Cli.Run(tmp.Path, tinyRam.Env, "verify", ModelFile, "--board", TinyRamHome.BoardName);
        CliExpect.UserError(verify, "too_big", "arena", TinyRamHome.BoardName);
        CliExpect.OnlyEntries(tmp.Path, ModelFile);
    }

    [Fact]
    public void A_model_that_fits_compiles_for_the_tiny_board()
    {
        // Control for the test above: the tiny-ram home and board are usable, only the size was the problem.
        using var tmp = new TempDir();
        var r = Compile(tmp, Json(CliExpect.SmallModel()), tinyRam.Env, "--board", TinyRamHome.BoardName, "--verify-steps", "2");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        CliExpect.OnlyEntries(tmp.Path, ModelFile, OutDir);
        Assert.Contains($"\"board\": \"{TinyRamHome.BoardName}\"", File.ReadAllText(Path.Combine(tmp.Path, OutDir, "tinyodl.json")));
    }

    [Fact]
    public void An_incomplete_TINYODL_HOME_is_reported_not_silently_ignored()
    {
        // A home with the board but without firmware/ and toolchain/: the CLI should say what is wrong with
        // TINYODL_HOME rather than fall back to its own files and call the board unknown.
        using var home = new TempDir();
        var board = Path.Combine(home.Path, "boards", TinyRamHome.BoardName);
        Directory.CreateDirectory(board);
        foreach (var f in Directory.GetFiles(Path.Combine(tinyRam.Home, "boards", TinyRamHome.BoardName)))
            File.Copy(f, Path.Combine(board, Path.GetFileName(f)));
        using var tmp = new TempDir();
        var r = Compile(tmp, Json(CliExpect.SmallModel()), new Dictionary<string, string> { ["TINYODL_HOME"] = home.Path },
            "--board", TinyRamHome.BoardName);
        CliExpect.UserError(r, "TINYODL_HOME");
        CliExpect.OnlyEntries(tmp.Path, ModelFile);
    }

    [Fact]
    public void Bad_backend_value_is_one_line_naming_the_option()
    {
        CompileFailsCleanly(Json(CliExpect.SmallModel()), ["--backend", "wasm"], "--backend", "wasm");
    }

    [Fact]
    public void Missing_required_output_option()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File(ModelFile), Json(CliExpect.SmallModel()));
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", ModelFile);
        CliExpect.UserError(r, "--output");
        CliExpect.OnlyEntries(tmp.Path, ModelFile);
    }

    [Fact]
    public void Negative_verify_steps()
    {
        CompileFailsCleanly(Json(CliExpect.SmallModel()), ["--verify-steps", "-1"], "--verify-steps");
    }

    [Fact]
    public void Run_on_a_folder_that_is_not_a_TinyOdl_output()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.File("notes"));
        File.WriteAllText(Path.Combine(tmp.File("notes"), "readme.txt"), "not generated");
        var before = CliExpect.Snapshot(tmp.Path);

        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "run", "notes");

        CliExpect.UserError(r, "notes", "not a TinyOdl output folder", "tinyodl.json");
        Assert.Equal(before, CliExpect.Snapshot(tmp.Path)); // no build/ folder, nothing written
    }

    [Fact]
    public void Run_on_a_missing_folder()
    {
        using var tmp = new TempDir();
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "run", "no-such-folder");
        CliExpect.UserError(r, "no-such-folder", "not found");
        CliExpect.OnlyEntries(tmp.Path);
    }

    [Fact]
    public void Run_with_a_manifest_that_is_not_json()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.File("out"));
        File.WriteAllText(Path.Combine(tmp.File("out"), "tinyodl.json"), "garbage");
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "run", "out");
        CliExpect.UserError(r, "tinyodl.json", "invalid manifest");
    }

    [Fact]
    public void Run_with_an_empty_manifest_object_is_a_user_error_not_an_internal_one()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.File("out"));
        File.WriteAllText(Path.Combine(tmp.File("out"), "tinyodl.json"), "{}");
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "run", "out");
        CliExpect.UserError(r, "tinyodl.json");
    }

    [Fact]
    public void Output_path_that_is_a_foreign_folder_is_left_untouched()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.File(OutDir));
        File.WriteAllText(Path.Combine(tmp.File(OutDir), "thesis.tex"), "precious");
        var before = CliExpect.Snapshot(tmp.Path);
        File.Delete(tmp.File(ModelFile)); // Compile writes it; keep the snapshot comparable
        var r = Compile(tmp, Json(CliExpect.SmallModel()));
        CliExpect.UserError(r, OutDir, "not written by TinyOdl");
        var after = CliExpect.Snapshot(tmp.Path);
        after.Remove(ModelFile);
        Assert.Equal(before, after);
    }

    [Fact]
    public void Output_path_that_is_a_file_is_left_untouched()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File(OutDir), "precious");
        var r = Compile(tmp, Json(CliExpect.SmallModel()));
        CliExpect.UserError(r, OutDir, "is a file");
        Assert.Equal("precious", File.ReadAllText(tmp.File(OutDir)));
        CliExpect.OnlyEntries(tmp.Path, ModelFile, OutDir);
    }
}

using System.Text.Json.Nodes;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.CliTests;

using Cli = TinyOdl.Tests.Support.Cli;

/// <summary>
/// Precision and vector-length input through the real CLI process: bad values are exit code 2, one stderr line
/// naming the layer, field or option and the reason, no stack trace, and no output folder (nor staging folder).
/// `compile`, `verify` and `run MODEL.json` share the loaders, so all three are checked.
/// </summary>
public sealed class PrecisionBadInputTests
{
    private const string ModelFile = "model.json";
    private const string OutDir = "out";
    private const string Fp32Board = "qemu-virt-rv32";
    private const string ZfhBoard = "qemu-virt-rv32-zfh";
    private const string ZvfhBoard = "qemu-virt-rv32-zvfh";

    public static IEnumerable<object[]> Commands() => [["compile"], ["verify"], ["run"]];

    private static string Json(JsonObject model) => model.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });

    /// <summary>Writes model.json, runs `COMMAND model.json [-o out] ARGS` in a fresh folder, expects a clean user error.</summary>
    private static string FailsCleanly(string command, JsonObject model, string[] args, params string[] fragments)
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File(ModelFile), Json(model));
        // `run MODEL.json` compiles into a temporary folder of its own; bad input must fail before that.
        string[] all = command == "compile" ? ["compile", ModelFile, "-o", OutDir, .. args] : [command, ModelFile, .. args];
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, all);
        var line = CliExpect.UserError(r, fragments);
        CliExpect.OnlyEntries(tmp.Path, ModelFile);
        return line;
    }

    // ---------------------------------------------------------------- binary16 on a board without Zfh

    [Theory]
    [MemberData(nameof(Commands))]
    public void Fp16_on_a_board_without_Zfh_names_the_layer_and_the_missing_extension(string command)
    {
        var line = FailsCleanly(command, CliExpect.SmallModel(), ["--precision", "fp16"],
            ModelFile, "layer 'fc1'", "precision fp16", "Zfh", $"board '{Fp32Board}'", "rv32imafc");
        // ... and says where Zfh is available.
        Assert.Contains(ZfhBoard, line);
        Assert.Contains(ZvfhBoard, line);
        Assert.StartsWith("tinyodl: error: ", line);
    }

    [Fact]
    public void Fp16_mixed_also_needs_Zfh()
    {
        FailsCleanly("compile", CliExpect.SmallModel(), ["--precision", "fp16-mixed", "--board", Fp32Board],
            "layer 'fc1'", "precision fp16-mixed", "Zfh", Fp32Board);
    }

    [Fact]
    public void A_single_binary16_layer_is_the_one_named()
    {
        // fc1 and relu1 are fp32; only fc2 asks for binary16.
        var m = CliExpect.SmallModel();
        CliExpect.Layer(m, 2)["precision"] = "fp16";
        var line = FailsCleanly("compile", m, [], "layer 'fc2'", "precision fp16", "Zfh", Fp32Board);
        Assert.DoesNotContain("'fc1'", line);
    }

    [Fact]
    public void Model_wide_fp16_in_the_file_on_a_board_without_Zfh()
    {
        var m = CliExpect.SmallModel();
        m["precision"] = "fp16";
        FailsCleanly("compile", m, [], "layer 'fc1'", "Zfh", Fp32Board);
    }

    // ---------------------------------------------------------------- unknown precision names

    [Theory]
    [MemberData(nameof(Commands))]
    public void Unknown_per_layer_precision_names_the_field_and_lists_the_valid_names(string command)
    {
        var m = CliExpect.SmallModel();
        CliExpect.Layer(m, 2)["precision"] = "fp8";
        FailsCleanly(command, m, ["--board", ZfhBoard],
            ModelFile, "layers[2] (fc2).precision", "unknown precision 'fp8'", "fp32, fp16, fp16-mixed");
    }

    [Fact]
    public void Unknown_model_wide_precision_in_the_file()
    {
        var m = CliExpect.SmallModel();
        m["precision"] = "bf16";
        FailsCleanly("compile", m, ["--board", ZfhBoard], ModelFile, "precision", "unknown precision 'bf16'", "fp32, fp16, fp16-mixed");
    }

    [Fact]
    public void Precision_names_are_case_sensitive()
    {
        var m = CliExpect.SmallModel();
        CliExpect.Layer(m, 0)["precision"] = "FP16";
        FailsCleanly("compile", m, ["--board", ZfhBoard], "layers[0] (fc1).precision", "unknown precision 'FP16'", "fp16-mixed");
    }

    [Fact]
    public void A_precision_that_is_not_a_string()
    {
        var m = CliExpect.SmallModel();
        CliExpect.Layer(m, 0)["precision"] = 16;
        FailsCleanly("compile", m, ["--board", ZfhBoard], "layers[0] (fc1).precision", "must be a string");
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Precision_typo_on_the_command_line_lists_the_valid_names(string command)
    {
        var line = FailsCleanly(command, CliExpect.SmallModel(), ["--precision", "fp61", "--board", ZfhBoard],
            "--precision", "'fp61'", "fp32", "fp16", "fp16-mixed");
        Assert.StartsWith("tinyodl: ", line);
    }

    [Fact]
    public void Precision_option_without_a_value()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File(ModelFile), Json(CliExpect.SmallModel()));
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", ModelFile, "-o", OutDir, "--board", ZfhBoard, "--precision");
        CliExpect.UserError(r, "--precision");
        CliExpect.OnlyEntries(tmp.Path, ModelFile);
    }

    // ---------------------------------------------------------------- vector length

    [Theory]
    [MemberData(nameof(Commands))]
    public void Unsupported_vlen_names_the_supported_ones(string command)
    {
        FailsCleanly(command, CliExpect.SmallModel(), ["--board", ZvfhBoard, "--vlen", "512"],
            "--vlen", ZvfhBoard, "128", "256", "512");
    }

    [Theory]
    [InlineData("compile", Fp32Board)]
    [InlineData("compile", ZfhBoard)]
    [InlineData("verify", Fp32Board)]
    [InlineData("verify", ZfhBoard)]
    [InlineData("run", ZfhBoard)]
    public void Vlen_on_a_board_without_a_vector_unit(string command, string board)
    {
        FailsCleanly(command, CliExpect.SmallModel(), ["--board", board, "--vlen", "128"],
            "--vlen", $"board '{board}'", "no vector unit");
    }

    [Fact]
    public void Vlen_that_is_not_a_number_is_one_line_without_dotnet_type_names()
    {
        var line = FailsCleanly("compile", CliExpect.SmallModel(), ["--board", ZvfhBoard, "--vlen", "abc"], "--vlen", "abc");
        // A user should not see "System.Nullable`1[System.Int32]".
        Assert.DoesNotContain("System.", line);
    }

    // ---------------------------------------------------------------- a toolchain that cannot build the folder

    /// <summary>
    /// `verify` skips GCC 12 for binary16 and vector programs with a one-line reason (BuildCombo.CannotBuild);
    /// `run FOLDER --toolchain gcc` should refuse the same way instead of passing on GCC's errors.
    /// </summary>
    [Theory]
    [InlineData(ZfhBoard, "fp16", "_Float16")]
    [InlineData(ZvfhBoard, "fp32", "RVV")]
    public void Running_a_folder_with_a_toolchain_that_cannot_build_it_is_one_line(string board, string precision, string reason)
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File(ModelFile), Json(CliExpect.SmallModel()));
        var compile = Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", ModelFile, "-o", OutDir, "--board", board, "--precision", precision, "--verify-steps", "2");
        Assert.True(compile.ExitCode == 0, $"compile exited {compile.ExitCode}: {compile.Stderr}");

        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "run", OutDir, "--toolchain", "gcc");
        CliExpect.UserError(r, "GCC", reason);
    }

    // ---------------------------------------------------------------- controls: the same options used correctly

    [Fact]
    public void Valid_precision_and_vlen_compile_for_the_vector_board()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File(ModelFile), Json(CliExpect.SmallModel()));
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", ModelFile, "-o", OutDir, "--board", ZvfhBoard,
            "--precision", "fp16-mixed", "--vlen", "256", "--verify-steps", "2");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stdout}\n{r.Stderr}");
        CliExpect.OnlyEntries(tmp.Path, ModelFile, OutDir);
        Assert.Contains("vlen=256", File.ReadAllText(Path.Combine(tmp.Path, OutDir, "board.mk")));
        var c = File.ReadAllText(Path.Combine(tmp.Path, OutDir, "model.c"));
        Assert.Contains("linear_f16acc32_forward_rvv_7x5", c);
        Assert.Contains("__riscv_vfwmacc", c);
    }

    [Fact]
    public void Command_line_precision_overrides_the_files_default_but_not_a_layers_own()
    {
        var m = CliExpect.SmallModel();
        m["precision"] = "fp16";
        CliExpect.Layer(m, 2)["precision"] = "fp32";
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File(ModelFile), Json(m));
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", ModelFile, "-o", OutDir, "--board", ZfhBoard,
            "--precision", "fp16-mixed", "--verify-steps", "2");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stdout}\n{r.Stderr}");
        var c = File.ReadAllText(Path.Combine(tmp.Path, OutDir, "model.c"));
        Assert.Contains("linear_f16acc32_forward_7x5", c); // fc1: the command line's fp16-mixed, not the file's fp16
        Assert.Contains("linear_f32_forward_5x3", c);      // fc2: its own fp32
        Assert.DoesNotContain("linear_f16_forward", c);
        Assert.DoesNotContain("_rvv_", c);                  // a scalar board
    }
}

using System.CommandLine;
using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Frontends;
using TinyOdl.Frontends.Onnx;
using TinyOdl.Graph;
using TinyOdl.Targets;

namespace TinyOdl.Cli;

/// <summary>Options and loaders shared by several commands.</summary>
internal static class CommonOptions
{
    public static Argument<string> ModelArgument() => new("model") { Description = "Model file (.json or .onnx, see docs/MODEL_FORMAT.md)" };

    public static Option<string> BoardOption() => new("--board", "-b")
    {
        Description = "Target board (a folder under boards/)",
        DefaultValueFactory = _ => "qemu-virt-rv32",
    };

    public static Option<string> BackendOption()
    {
        var o = new Option<string>("--backend") { Description = "Code generator: c or llvm", DefaultValueFactory = _ => "c" };
        o.AcceptOnlyFromAmong("c", "llvm");
        return o;
    }

    public static Backend ParseBackend(string s) => s == "llvm" ? Backend.Llvm : Backend.C;

    public static Option<string?> PrecisionOption()
    {
        var o = new Option<string?>("--precision", "-p")
        {
            Description = "Model-wide precision: fp32, fp16 or fp16-mixed (overrides the model file's; layers that name their own keep it)",
        };
        o.AcceptOnlyFromAmong(PrecisionExtensions.Names);
        return o;
    }

    public static Option<int?> VlenOption() => new("--vlen") { Description = "Vector length in bits for boards with a vector unit (see the board's vlen_options)" };

    public static Board LoadBoard(string name, int? vlen)
    {
        var board = Board.Load(name);
        return vlen is { } v ? board.WithVlen(v) : board;
    }

    public static Option<int> Im2colBudgetOption() => new("--im2col-budget")
    {
        Description = "Largest im2col column matrix (bytes) a convolution may use as scratch; larger layers run the direct loop nest (same bits either way)",
        DefaultValueFactory = _ => Passes.Autodiff.DefaultIm2colBudgetBytes,
    };

    public static Option<string?> UpdateOption() => new("--update")
    {
        Description = "Sparse update: full, bias-only or last-K (train only the last K layers); replaces the model's trainable flags",
    };

    /// <param name="update">A sparse-update policy name (see <see cref="UpdatePolicy.Parse"/>), or null for the file's flags.</param>
    public static ModelDocument LoadModel(string path, string? precision, string? update = null)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        var prec = precision is null ? (Precision?)null : PrecisionExtensions.Parse(precision, "--precision");
        var policy = update is null ? null : UpdatePolicy.Parse(update, "--update");
        var doc = ext switch
        {
            ".json" => JsonModelReader.Load(path, prec),
            // Loss and optimizer: the importer's defaults (docs/MODEL_FORMAT.md, "ONNX import") until the CLI has options for them.
            ".onnx" => OnnxModelReader.Load(path, new OnnxImportOptions { Precision = prec }),
            _ => throw TinyOdlException.At(path, $"unsupported model format '{ext}'; expected a .json or .onnx model file"),
        };
        return policy is null ? doc : doc with { Model = policy.Apply(doc.Model) };
    }

    /// <summary>What verify-mode commands share: the compiled model, a plan of traced steps, and the evaluator's expected lines.</summary>
    public sealed record VerifyRun(ModelDocument Document, Board Board, CompiledModel Compiled, RunPlan Plan, IReadOnlyList<ProtocolLine> Expected);

    public static VerifyRun PrepareVerify(string modelPath, string boardName, int? vlen, string? precision, int steps, string? update = null,
        int im2colBudget = Passes.Autodiff.DefaultIm2colBudgetBytes)
    {
        if (steps < 1) throw TinyOdlException.At("--steps", "must be at least 1");
        if (im2colBudget < 0) throw TinyOdlException.At("--im2col-budget", "must be 0 or more bytes");
        var doc = LoadModel(modelPath, precision, update);
        var board = LoadBoard(boardName, vlen);
        var compiled = Pipeline.Compile(doc.Model, board, modelPath, im2colBudgetBytes: im2colBudget);
        var (train, test) = doc.Training.Load(compiled.Program.InputSize, compiled.Program.OutputSize);
        var plan = RunPlan.Verify(train, test, steps);
        return new VerifyRun(doc, board, compiled, plan, HarnessSimulator.Run(compiled.Program, plan));
    }
}

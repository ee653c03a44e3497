using System.Collections.Concurrent;
using System.Diagnostics;
using TinyOdl.Codegen;
using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Targets;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.EndToEnd;

/// <summary>What happened to one model with one build combination.</summary>
public sealed record ComboOutcome(
    BuildCombo Combo,
    int WerrorExitCode,
    string WerrorOutput,
    DeviceRun? Run,
    Exception? Error,
    TimeSpan Elapsed);

/// <summary>One model of the matrix: compiled, simulated, written for both backends and run with every combination.</summary>
public sealed class CaseOutcome
{
    public required ModelCase Case { get; init; }
    public CompiledModel? Compiled { get; set; }
    public RunPlan? Plan { get; set; }
    public IReadOnlyList<ProtocolLine> Expected { get; set; } = [];
    /// <summary>Compilation, simulation or writing failed before anything ran.</summary>
    public Exception? SetupError { get; set; }
    public ConcurrentDictionary<string, ComboOutcome> Combos { get; } = new();
}

/// <summary>
/// Does all the slow work of the matrix once per test class: for every model, Pipeline.Compile, a verify (or
/// training) plan over synthetic data, HarnessSimulator for the expected lines, ProjectWriter for the C and the
/// LLVM IR backend, then for every BuildCombo.All entry a -Werror build (make EXTRA_CFLAGS=-Werror all) followed
/// by QemuRunner.BuildAndRun with the normal flags. Models are processed in parallel, one per core; failures are
/// recorded per model and combination so each test reports its own.
/// </summary>
public sealed class ModelMatrixFixture : IDisposable
{
    private readonly TempDir _root = new();
    private readonly Dictionary<string, CaseOutcome> _cases = new(StringComparer.Ordinal);

    public ModelMatrixFixture()
    {
        var sw = Stopwatch.StartNew();
        Board = Board.Load("qemu-virt-rv32");
        foreach (var c in ModelMatrix.All) _cases[c.Name] = new CaseOutcome { Case = c };
        Parallel.ForEach(_cases.Values, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, Process);
        Elapsed = sw.Elapsed;
    }

    public Board Board { get; }
    public TimeSpan Elapsed { get; }
    public string Root => _root.Path;

    /// <summary>Theory data: every model with every build combination's key (e.g. "gcc-O0", "llvm-O2").</summary>
    public static IEnumerable<object[]> ModelsAndCombos() =>
        from c in ModelMatrix.All from combo in BuildCombo.All select new object[] { c.Name, Key(combo) };

    public static IEnumerable<object[]> Models() => ModelMatrix.All.Select(c => new object[] { c.Name });

    public static string Key(BuildCombo combo) => combo.Toolchain + combo.Opt;

    public CaseOutcome Case(string name) => _cases[name];

    public ComboOutcome Outcome(string model, string comboKey)
    {
        var c = _cases[model];
        if (c.SetupError is not null)
            throw new Xunit.Sdk.XunitException($"{model}: setup failed before any build: {c.SetupError}");
        return c.Combos.TryGetValue(comboKey, out var o)
            ? o
            : throw new Xunit.Sdk.XunitException($"{model}: combination {comboKey} was not run");
    }

    public string FolderOf(string model, Backend backend) => Path.Combine(Root, model, backend == Backend.C ? "c" : "llvm");

    private void Process(CaseOutcome outcome)
    {
        var c = outcome.Case;
        try
        {
            var compiled = Pipeline.Compile(c.Build(), Board);
            var plan = c.Plan();
            outcome.Compiled = compiled;
            outcome.Plan = plan;
            outcome.Expected = HarnessSimulator.Run(compiled.Program, plan);
            foreach (var backend in new[] { Backend.C, Backend.Llvm })
                ProjectWriter.Write(FolderOf(c.Name, backend), compiled, Board, backend, plan, outcome.Expected);
        }
        catch (Exception e)
        {
            outcome.SetupError = e;
            return;
        }

        foreach (var combo in BuildCombo.All)
        {
            var sw = Stopwatch.StartNew();
            var dir = FolderOf(c.Name, combo.Backend);
            int werrorCode = -1;
            string werrorOutput = "";
            DeviceRun? run = null;
            Exception? error = null;
            try
            {
                var strict = QemuRunner.Exec("make", $"-C \"{dir}\" -s TOOLCHAIN={combo.Toolchain} OPT={combo.Opt} EXTRA_CFLAGS=-Werror all");
                werrorCode = strict.Code;
                werrorOutput = (strict.Stdout + strict.Stderr).Trim();
                // Normal flags (the settings change, so make rebuilds): what `tinyodl run` and `verify` do.
                run = QemuRunner.BuildAndRun(dir, combo);
            }
            catch (Exception e)
            {
                error = e;
            }
            outcome.Combos[Key(combo)] = new ComboOutcome(combo, werrorCode, werrorOutput, run, error, sw.Elapsed);
        }
    }

    public void Dispose() => _root.Dispose();
}

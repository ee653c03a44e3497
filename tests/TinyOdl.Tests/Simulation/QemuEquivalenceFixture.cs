using System.Diagnostics;
using TinyOdl.Codegen;
using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Frontends;
using TinyOdl.Graph;
using TinyOdl.Simulation;
using TinyOdl.Targets;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.Simulation;

/// <summary>
/// One program of the equivalence set: a model (examples/NAME.json) in a precision, compiled for a board with a
/// backend and built with a toolchain, run in verify mode (traced steps) or training mode (epochs over a few
/// samples); or the firmware self-test (firmware/tests/selftest) in one of its modes.
/// </summary>
public sealed record EquivalenceProgram(string Name, string Model, string Precision, string BoardName, int? Vlen, BuildCombo Combo,
    int Steps = 2, int Epochs = 0, int SelfTestMode = -1, int SelfTestExit = 0)
{
    public bool IsSelfTest => SelfTestMode >= 0;
    public string Key => Name;
    public override string ToString() => Name;
}

/// <summary>What QEMU and the simulator did with one program.</summary>
public sealed class EquivalenceOutcome
{
    public required EquivalenceProgram Program { get; init; }
    public string Elf { get; set; } = "";
    public int QemuExit { get; set; } = -1;
    public string QemuStdout { get; set; } = "";
    public SimulationResult? Sim { get; set; }
    public string SimStdout { get; set; } = "";
    public Exception? Error { get; set; }
    public TimeSpan QemuTime { get; set; }

    /// <summary>Every counter field (instret, cycles, instret_first/min/max, cycles_first) of the protocol lines, in order.</summary>
    public static IReadOnlyList<string> Counters(string stdout) => QemuCrossCheck.Counters(stdout);

    public bool StdoutEqual => Sim is not null && QemuStdout == SimStdout;
    public bool ExitEqual => Sim is not null && QemuExit == Sim.ExitStatus;
    public bool InstretEqual => Sim is not null && Counters(QemuStdout).SequenceEqual(Counters(SimStdout));
}

/// <summary>
/// Builds every <see cref="EquivalenceFixture.Programs"/> entry with the library (JsonModelReader, Pipeline,
/// HarnessSimulator, ProjectWriter) and firmware/build.mk, runs it under QEMU (make run: -icount shift=0) and on the
/// simulator (the same ELF, the same board), in parallel, one program per core.
/// </summary>
public sealed class EquivalenceFixture : IDisposable
{
    private static readonly BuildCombo ClangO2 = BuildCombo.Default(Backend.C), LlvmO2 = BuildCombo.Default(Backend.Llvm);
    private static readonly BuildCombo GccO2 = BuildCombo.All.Single(c => c.Toolchain == "gcc" && c.Opt == "-O2");
    private static readonly BuildCombo GccO0 = BuildCombo.All.Single(c => c.Toolchain == "gcc" && c.Opt == "-O0");

    /// <summary>Scalar fp32 (GCC and clang), scalar Zfh, SIMD fp32/fp16/fp16-mixed at VLEN 128 and 256, C and LLVM IR, MLP and CNNs, a training run, the runtime self-test and its trap path.</summary>
    public static IReadOnlyList<EquivalenceProgram> Programs { get; } =
    [
        new("digits-mlp fp32 scalar, clang -O2", "digits-mlp", "fp32", "qemu-virt-rv32", null, ClangO2),
        new("digits-mlp fp32 scalar, GCC -O0", "digits-mlp", "fp32", "qemu-virt-rv32", null, GccO0, Steps: 1),
        new("digits-mlp fp16 Zfh, LLVM IR -O2", "digits-mlp", "fp16", "qemu-virt-rv32-zfh", null, LlvmO2),
        new("digits-mlp fp16-mixed Zfh, clang -O2", "digits-mlp", "fp16-mixed", "qemu-virt-rv32-zfh", null, ClangO2, Steps: 1),
        new("digits-mlp fp32 SIMD VLEN 128, clang -O2", "digits-mlp", "fp32", "qemu-virt-rv32-zvfh", null, ClangO2),
        new("digits-mlp fp16 SIMD VLEN 128, clang -O2", "digits-mlp", "fp16", "qemu-virt-rv32-zvfh", null, ClangO2),
        new("digits-mlp fp16-mixed SIMD VLEN 256, LLVM IR -O2", "digits-mlp", "fp16-mixed", "qemu-virt-rv32-zvfh", 256, LlvmO2),
        new("digits-mlp fp16 SIMD VLEN 256, training 2 epochs", "digits-mlp", "fp16", "qemu-virt-rv32-zvfh", 256, ClangO2, Steps: 12, Epochs: 2),
        new("digits-cnn fp32 scalar, GCC -O2", "digits-cnn", "fp32", "qemu-virt-rv32", null, GccO2, Steps: 1),
        new("digits-cnn fp16 SIMD VLEN 128, clang -O2", "digits-cnn", "fp16", "qemu-virt-rv32-zvfh", null, ClangO2, Steps: 1),
        new("ds-cnn fp16 SIMD VLEN 128, clang -O2 (1 step)", "ds-cnn", "fp16", "qemu-virt-rv32-zvfh", null, ClangO2, Steps: 1),
        new("firmware self-test (TLS, heap, exit 3)", "", "fp32", "qemu-virt-rv32", null, ClangO2, SelfTestMode: 0, SelfTestExit: 3),
        new("firmware self-test: illegal instruction trap", "", "fp32", "qemu-virt-rv32", null, ClangO2, SelfTestMode: 1),
    ];

    private readonly TempDir _root = new();

    public EquivalenceFixture()
    {
        var sw = Stopwatch.StartNew();
        Outcomes = Programs.Select(p => new EquivalenceOutcome { Program = p }).ToArray();
        // Largest first, so the long one does not start last.
        var order = Outcomes.OrderByDescending(o => o.Program.Model == "ds-cnn" ? 1 : 0).ToArray();
        Parallel.ForEach(order, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, Process);
        Elapsed = sw.Elapsed;
    }

    public IReadOnlyList<EquivalenceOutcome> Outcomes { get; }
    public TimeSpan Elapsed { get; }

    private void Process(EquivalenceOutcome o)
    {
        var p = o.Program;
        try
        {
            var board = p.Vlen is { } v ? Board.Load(p.BoardName).WithVlen(v) : Board.Load(p.BoardName);
            var dir = Path.Combine(_root.Path, new string(p.Name.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray()));
            string vars = $"TOOLCHAIN={p.Combo.Toolchain} OPT={p.Combo.Opt}";
            if (p.IsSelfTest)
            {
                WriteSelfTest(dir, board);
                vars += $" HARNESS=selftest.c \"EXTRA_CFLAGS=-DSELFTEST_MODE={p.SelfTestMode} -DSELFTEST_EXIT={p.SelfTestExit}\"";
            }
            else
            {
                WriteModel(dir, board, p);
            }
            var build = QemuRunner.Exec("make", $"-C \"{dir}\" -s {vars} all");
            if (build.Code != 0) throw new InvalidOperationException($"build failed:\n{QemuRunner.Tail(build.Stdout + build.Stderr)}");
            o.Elf = Path.Combine(dir, p.Combo.BuildDirectory, "program.elf");

            var qemu = Stopwatch.StartNew();
            var run = QemuRunner.Exec("make", $"-C \"{dir}\" -s {vars} run");
            o.QemuTime = qemu.Elapsed;
            o.QemuStdout = run.Stdout;
            o.QemuExit = int.Parse(File.ReadAllText(Path.Combine(dir, p.Combo.BuildDirectory, "exit-status")).Trim());

            var (result, stdout, _) = Simulator.RunCaptured(o.Elf, board);
            o.Sim = result;
            o.SimStdout = stdout;
        }
        catch (Exception e)
        {
            o.Error = e;
        }
    }

    private static void WriteModel(string dir, Board board, EquivalenceProgram p)
    {
        var doc = JsonModelReader.Load(Path.Combine(Repo.Examples, p.Model + ".json"), PrecisionExtensions.Parse(p.Precision, "test"));
        var compiled = Pipeline.Compile(doc.Model, board);
        var (train, test) = doc.Training.Load(compiled.Program.InputSize, compiled.Program.OutputSize);
        var plan = p.Epochs > 0
            ? RunPlan.Training(train.Take(p.Steps), test.Take(8), p.Epochs)
            : RunPlan.Verify(train, test, p.Steps) with { PredictCount = 2 };
        var expected = HarnessSimulator.Run(compiled.Program, plan);
        ProjectWriter.Write(dir, compiled, board, p.Combo.Backend, plan, expected);
    }

    /// <summary>As <c>FirmwareSelfTests</c> does: an output folder for a tiny model, with selftest.c as the harness.</summary>
    private static void WriteSelfTest(string dir, Board board)
    {
        var b = new ModelBuilder("selftest_host", new Shape(2));
        var model = b.MseLoss("loss", b.Linear("fc", b.Input, 1)).Build(new SgdOptimizer(0.1f));
        var compiled = Pipeline.Compile(model);
        var (train, test) = Dataset.Synthetic(4, 2, 1, 1).Split(0.5, 1);
        var plan = RunPlan.Verify(train, test, 1);
        ProjectWriter.Write(dir, compiled, board, Backend.C, plan, HarnessSimulator.Run(compiled.Program, plan));
        File.Copy(Path.Combine(Repo.Root, "firmware", "tests", "selftest", "selftest.c"), Path.Combine(dir, "selftest.c"));
    }

    public void Dispose() => _root.Dispose();
}

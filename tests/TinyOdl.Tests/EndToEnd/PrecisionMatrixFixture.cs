using System.Collections.Concurrent;
using System.Diagnostics;
using TinyOdl.Codegen;
using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Targets;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.EndToEnd;

/// <summary>One model, built for one policy, compiled for one board (and vector length).</summary>
public sealed class PrecisionVariant
{
    public required PrecisionCase Case { get; init; }
    public required PrecisionTarget Target { get; init; }
    public required string Policy { get; init; }
    public string Key => PrecisionMatrixFixture.VariantKey(Case.Name, Target.Key, Policy);

    public Board? Board { get; set; }
    public CompiledModel? Compiled { get; set; }
    public RunPlan? Plan { get; set; }
    public IReadOnlyList<ProtocolLine> Expected { get; set; } = [];
    /// <summary>The generated model.c and model.ll, as written into the two output folders.</summary>
    public string ModelC { get; set; } = "";
    public string ModelLl { get; set; } = "";
    public Exception? SetupError { get; set; }
    /// <summary>Combination key (e.g. "clang-O2") to outcome; combinations the program cannot be built with are in <see cref="Skipped"/>.</summary>
    public ConcurrentDictionary<string, ComboOutcome> Combos { get; } = new();
    public ConcurrentDictionary<string, string> Skipped { get; } = new();
    public TimeSpan Elapsed { get; set; }

    public override string ToString() => Key;
}

/// <summary>
/// The slow work of the precision matrix, once per test class: for every model x policy x board of
/// <see cref="PrecisionMatrix"/>, Pipeline.Compile, HarnessSimulator for the expected lines, ProjectWriter for the
/// C and the LLVM IR backend, then for every <see cref="BuildCombo.All"/> entry the program can be built with
/// (<see cref="BuildCombo.CannotBuild"/>): `make EXTRA_CFLAGS=-Werror all` and `make EXTRA_CFLAGS=-Werror run`
/// under QEMU; with VLEN 256 the VLEN-128 programs run again under QEMU with vlen=256 (the generated sources are
/// identical, only board.mk's QEMU flags differ, which a test checks). The -Werror build is the one that runs (EXTRA_CFLAGS only adds -Werror, which changes no code),
/// so every combination is compiled once; the normal-flags path (QemuRunner.BuildAndRun) is exercised by
/// <see cref="PrecisionTrainingTests"/> and by <see cref="ModelMatrixTests"/>. Each model x policy is one job (its
/// boards in order), jobs run in parallel, one per core; failures are recorded per variant and combination.
/// </summary>
public sealed class PrecisionMatrixFixture : IDisposable
{
    private readonly TempDir _root = new();
    private readonly Dictionary<string, PrecisionVariant> _variants = new(StringComparer.Ordinal);

    public PrecisionMatrixFixture()
    {
        var sw = Stopwatch.StartNew();
        foreach (var (c, t, p) in VariantKeys())
            _variants[VariantKey(c.Name, t.Key, p)] = new PrecisionVariant { Case = c, Target = t, Policy = p };
        // One job per model and policy: its boards in order (zvfh256 reuses zvfh128's programs). Largest first:
        // fp32 on the scalar Zfh board has five combinations (GCC too), the others three.
        var jobs = _variants.Values.GroupBy(v => (v.Case.Name, v.Policy))
            .Select(g => g.OrderBy(v => PrecisionMatrix.Targets.ToList().IndexOf(v.Target)).ToArray())
            .OrderByDescending(g => g[0].Policy == "fp32" ? 1 : 0).ToArray();
        Parallel.ForEach(jobs, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, job =>
        {
            foreach (var v in job) Process(v, job);
        });
        Elapsed = sw.Elapsed;
    }

    public TimeSpan Elapsed { get; }
    public string Root => _root.Path;
    public IEnumerable<PrecisionVariant> Variants => _variants.Values;

    public static string VariantKey(string model, string target, string policy) => $"{model}|{target}|{policy}";
    public static string Key(BuildCombo combo) => combo.Toolchain + combo.Opt;
    public static BuildCombo Combo(string key) => BuildCombo.All.Single(c => Key(c) == key);

    public static IEnumerable<(PrecisionCase Case, PrecisionTarget Target, string Policy)> VariantKeys() =>
        from c in PrecisionMatrix.All from t in c.Targets from p in c.Policies select (c, t, p);

    /// <summary>
    /// The documented rule (BuildCombo.CannotBuild, docs/NUMERICS.md): GCC 12 builds only programs without binary16
    /// and without vector kernels, i.e. fp32 on a scalar board. Used for theory data (known before anything is
    /// compiled); a test checks that CannotBuild agrees with it for every variant.
    /// </summary>
    public static bool ExpectBuildable(PrecisionTarget target, string policy, BuildCombo combo) =>
        combo.Toolchain != "gcc" || (!target.IsVector && policy == "fp32");

    public static IEnumerable<object[]> Variants4() =>
        VariantKeys().Select(v => new object[] { v.Case.Name, v.Target.Key, v.Policy });

    public static IEnumerable<object[]> BuildableCombos() =>
        from v in VariantKeys()
        from combo in BuildCombo.All
        where ExpectBuildable(v.Target, v.Policy, combo)
        select new object[] { v.Case.Name, v.Target.Key, v.Policy, Key(combo) };

    /// <summary>Like <see cref="BuildableCombos"/> without zvfh256, whose programs are zvfh128's builds.</summary>
    public static IEnumerable<object[]> BuiltCombos() => BuildableCombos().Where(o => (string)o[1] != "zvfh256");

    public static IEnumerable<object[]> BuiltVariants() => Variants4().Where(o => (string)o[1] != "zvfh256");

    public PrecisionVariant Variant(string model, string target, string policy)
    {
        var v = _variants[VariantKey(model, target, policy)];
        if (v.SetupError is not null)
            throw new Xunit.Sdk.XunitException($"{v.Key}: setup failed before any build: {v.SetupError}");
        return v;
    }

    public ComboOutcome Outcome(string model, string target, string policy, string comboKey)
    {
        var v = Variant(model, target, policy);
        if (v.Skipped.TryGetValue(comboKey, out var why))
            throw new Xunit.Sdk.XunitException($"{v.Key}: combination {comboKey} was skipped: {why}");
        return v.Combos.TryGetValue(comboKey, out var o) ? o : throw new Xunit.Sdk.XunitException($"{v.Key}: combination {comboKey} was not run");
    }

    public string FolderOf(PrecisionVariant v, Backend backend) =>
        Path.Combine(Root, v.Case.Name, v.Target.Key, v.Policy, backend == Backend.C ? "c" : "llvm");

    private void Process(PrecisionVariant v, PrecisionVariant[] job)
    {
        var total = Stopwatch.StartNew();
        try
        {
            v.Board = v.Target.Load();
            var compiled = Pipeline.Compile(v.Case.Build(v.Policy), v.Board);
            var plan = v.Case.Data.Plan();
            v.Compiled = compiled;
            v.Plan = plan;
            v.Expected = HarnessSimulator.Run(compiled.Program, plan);
            foreach (var backend in new[] { Backend.C, Backend.Llvm })
                ProjectWriter.Write(FolderOf(v, backend), compiled, v.Board, backend, plan, v.Expected);
            v.ModelC = File.ReadAllText(Path.Combine(FolderOf(v, Backend.C), "model.c"));
            v.ModelLl = File.ReadAllText(Path.Combine(FolderOf(v, Backend.Llvm), "model.ll"));
        }
        catch (Exception e)
        {
            v.SetupError = e;
            return;
        }

        // VLEN 256 runs the programs built for VLEN 128: every generated file except board.mk (the QEMU flags) is the
        // same (a test checks this), so the ELF would be the same; only QEMU's vector length differs.
        var builtFor = v.Target.Key == "zvfh256" ? job.Single(o => o.Target.Key == "zvfh128") : null;
        foreach (var combo in BuildCombo.All)
        {
            if (combo.CannotBuild(v.Compiled.Program) is { } why)
            {
                v.Skipped[Key(combo)] = why;
                continue;
            }
            var sw = Stopwatch.StartNew();
            var dir = FolderOf(v, combo.Backend);
            int werrorCode = -1;
            string werrorOutput = "";
            DeviceRun? run = null;
            Exception? error = null;
            try
            {
                if (builtFor is not null)
                {
                    var built = builtFor.Combos.TryGetValue(Key(combo), out var o) ? o
                        : throw new InvalidOperationException($"{builtFor.Key} has no {combo.Name} build to run with VLEN {v.Board.Vlen}");
                    (werrorCode, werrorOutput) = (built.WerrorExitCode, built.WerrorOutput);
                    if (werrorCode == 0) run = RunBuiltElf(Path.Combine(FolderOf(builtFor, combo.Backend), combo.BuildDirectory, "program.elf"), dir, combo, v.Board!);
                }
                else
                {
                    var vars = $"TOOLCHAIN={combo.Toolchain} OPT={combo.Opt} EXTRA_CFLAGS=-Werror";
                    var build = QemuRunner.Exec("make", $"-C \"{dir}\" -s {vars} all");
                    werrorCode = build.Code;
                    werrorOutput = (build.Stdout + build.Stderr).Trim();
                    if (build.Code == 0)
                    {
                        // The same settings: make finds everything up to date and only runs QEMU.
                        run = QemuRunner.Run(dir, combo, vars, v.Board!);
                    }
                }
            }
            catch (Exception e)
            {
                error = e;
            }
            v.Combos[Key(combo)] = new ComboOutcome(combo, werrorCode, werrorOutput, run, error, sw.Elapsed);
        }
        v.Elapsed = total.Elapsed;
    }

    /// <summary>
    /// Runs an ELF built in another folder with this folder's QEMU command (`make -s qemu-cmd`, documented in
    /// firmware/build.mk for callers that run QEMU themselves): the ELF is copied to where this folder's build would put it.
    /// </summary>
    private static DeviceRun RunBuiltElf(string elf, string dir, BuildCombo combo, Board board)
    {
        Directory.CreateDirectory(Path.Combine(dir, combo.BuildDirectory));
        File.Copy(elf, Path.Combine(dir, combo.BuildDirectory, "program.elf"), overwrite: true);
        var cmd = QemuRunner.Exec("make", $"-C \"{dir}\" -s TOOLCHAIN={combo.Toolchain} OPT={combo.Opt} qemu-cmd");
        if (cmd.Code != 0) throw new InvalidOperationException($"make qemu-cmd failed in {dir}: {cmd.Stderr}");
        var script = Path.Combine(dir, combo.BuildDirectory, "run.sh");
        File.WriteAllText(script, $"cd \"{dir}\" && exec {cmd.Stdout.Trim()} </dev/null\n");
        var r = QemuRunner.Exec("bash", $"\"{script}\"");
        return QemuRunner.CheckSimulator(new DeviceRun(combo, r.Code, r.Stdout, r.Stderr, Protocol.Parse(r.Stdout)), elf, board);
    }

    public void Dispose() => _root.Dispose();
}

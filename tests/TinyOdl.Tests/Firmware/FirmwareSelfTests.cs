using TinyOdl.Codegen;
using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Graph;
using TinyOdl.Targets;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.Firmware;

/// <summary>
/// The runtime's own checks (firmware/tests/selftest/selftest.c replaces the harness): TLS and errno, .data/.bss,
/// heap, a 2009-character line through the line buffer, exit codes through semihosting, and the trap path.
/// Real compilers, real QEMU.
/// </summary>
public sealed class FirmwareSelfTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private readonly string _dir;

    public FirmwareSelfTests()
    {
        var b = new ModelBuilder("selftest_host", new Shape(2));
        var model = b.MseLoss("loss", b.Linear("fc", b.Input, 1)).Build(new SgdOptimizer(0.1f));
        var compiled = Pipeline.Compile(model);
        var (train, test) = Dataset.Synthetic(4, 2, 1, 1).Split(0.5, 1);
        var plan = RunPlan.Verify(train, test, 1);
        _dir = _tmp.File("out");
        ProjectWriter.Write(_dir, compiled, Board.Load("qemu-virt-rv32"), Backend.C, plan, HarnessSimulator.Run(compiled.Program, plan));
        File.Copy(Path.Combine(Repo.Root, "firmware", "tests", "selftest", "selftest.c"), Path.Combine(_dir, "selftest.c"));
    }

    public void Dispose() => _tmp.Dispose();

    private (int Status, string Output) Run(string toolchain, string opt, int mode, int exit)
    {
        var vars = $"TOOLCHAIN={toolchain} OPT={opt} HARNESS=selftest.c \"EXTRA_CFLAGS=-Werror -DSELFTEST_MODE={mode} -DSELFTEST_EXIT={exit}\"";
        var build = QemuRunner.Exec("make", $"-C \"{_dir}\" -s {vars} all");
        Assert.True(build.Code == 0 && build.Stdout.Length == 0 && build.Stderr.Length == 0, $"build printed or failed:\n{build.Stdout}{build.Stderr}");
        var run = QemuRunner.Run(_dir, new BuildCombo(toolchain, opt, Backend.C), vars);
        return (run.ExitCode, run.Stdout);
    }

    [Theory]
    [InlineData("gcc", "-O0")]
    [InlineData("gcc", "-O2")]
    [InlineData("clang", "-O2")]
    public void RuntimeChecksPassAndExitCodesArrive(string toolchain, string opt)
    {
        var (status, output) = Run(toolchain, opt, mode: 0, exit: 0);
        Assert.Equal(0, status);
        var lines = output.Split('\n');
        Assert.Contains("selftest ok", lines);
        Assert.Equal(2009, Assert.Single(lines, l => l.StartsWith("longline ")).Length);

        Assert.Equal(3, Run(toolchain, opt, mode: 0, exit: 3).Status);
        Assert.Equal(5, Run(toolchain, opt, mode: 2, exit: 0).Status);      // libc exit(5)
        Assert.Equal(134, Run(toolchain, opt, mode: 3, exit: 0).Status);    // abort() = 128 + SIGABRT
    }

    [Fact]
    public void IllegalInstructionIsReportedAndExits128PlusMcause()
    {
        var (status, output) = Run("clang", "-O2", mode: 1, exit: 0);
        Assert.Equal(130, status);
        var lines = output.Split('\n');
        Assert.Contains("partial line before trap", lines);
        Assert.Matches("^trap 2 [0-9a-f]{8} 00000000$", Assert.Single(lines, l => l.StartsWith("trap ")));
    }
}

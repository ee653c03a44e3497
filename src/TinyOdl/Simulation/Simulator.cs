using System.Diagnostics;
using System.Text;
using TinyOdl.Targets;

namespace TinyOdl.Simulation;

/// <summary>Run settings: the instruction limit and an optional observer of retired instructions.</summary>
public sealed record SimulationOptions
{
    public const ulong DefaultMaxInstructions = 10_000_000_000;

    /// <summary>Stop (exit status 124, like a timeout) after this many retired instructions.</summary>
    public ulong MaxInstructions { get; init; } = DefaultMaxInstructions;

    public IRetireObserver? Observer { get; init; }
}

/// <summary>
/// The result of a simulation: exit status as QEMU's process would report it (the program's status modulo 256;
/// 124 for the instruction limit or a hart that sleeps forever; 128 + mcause for a trap no handler can take),
/// why it stopped, retired instructions, a report for anything but a normal exit, and the first trap taken.
/// </summary>
public sealed record SimulationResult(int ExitStatus, StopKind Stop, ulong Instret, string? Report, string? FirstTrap, TimeSpan Elapsed)
{
    /// <summary>Millions of retired instructions per second of host time.</summary>
    public double Mips => Elapsed.TotalSeconds > 0 ? Instret / Elapsed.TotalSeconds / 1e6 : 0;
}

/// <summary>
/// Runs a TinyOdl ELF on the board's machine, as <c>qemu-system-riscv32 -M virt -bios none -kernel program.elf
/// -icount shift=0</c> with semihosting would: same console output, exit status and retired-instruction counts.
/// </summary>
public static class Simulator
{
    public static SimulationResult Run(string elfPath, Board board, Stream stdout, Stream stderr, SimulationOptions? options = null)
    {
        var program = ElfProgram.Load(elfPath);
        return Run(program, MachineConfig.FromBoard(board), stdout, stderr, options);
    }

    public static SimulationResult Run(ElfProgram program, MachineConfig config, Stream stdout, Stream stderr, SimulationOptions? options = null)
    {
        options ??= new SimulationOptions();
        var machine = new Machine(config, stdout, stderr);
        machine.Load(program);
        var executor = new Executor(machine);
        var sw = Stopwatch.StartNew();
        var outcome = executor.Run(options.MaxInstructions, options.Observer);
        sw.Stop();
        stdout.Flush();
        int status = outcome.Kind == StopKind.Exited ? outcome.ExitStatus & 0xFF : outcome.ExitStatus;
        return new SimulationResult(status, outcome.Kind, outcome.Instret, outcome.Report, executor.FirstTrap, sw.Elapsed);
    }

    /// <summary>Runs and returns the program's stdout as text (the harness prints ASCII).</summary>
    public static (SimulationResult Result, string Stdout, string Stderr) RunCaptured(string elfPath, Board board, SimulationOptions? options = null)
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        var result = Run(elfPath, board, stdout, stderr, options);
        return (result, Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()));
    }
}

using System.CommandLine;
using System.Globalization;
using TinyOdl.Simulation;

namespace TinyOdl.Cli;

/// <summary>
/// `tinyodl sim program.elf`: run an RV32 ELF on TinyOdl's own instruction-set simulator, as QEMU would run it for
/// the board: the program's stdout, its exit status, and a report on stderr when it does not exit normally.
/// </summary>
internal static class SimCommand
{
    public static Command Create()
    {
        var elf = new Argument<string>("program") { Description = "RV32 ELF executable (e.g. build/clang-O2/program.elf of an output folder)" };
        var board = CommonOptions.BoardOption();
        var vlen = CommonOptions.VlenOption();
        var max = new Option<ulong>("--max-instructions")
        {
            Description = "Stop with exit status 124 after this many retired instructions (a program that never exits)",
            DefaultValueFactory = _ => SimulationOptions.DefaultMaxInstructions,
        };
        var stats = new Option<bool>("--stats") { Description = "Print retired instructions, time and MIPS on stderr" };
        var cmd = new Command("sim", "Run an RV32 ELF on the built-in instruction-set simulator (the board's machine, semihosting console, exit status)")
        {
            elf, board, vlen, max, stats,
        };
        cmd.SetAction(r => Run(r.GetValue(elf)!, r.GetValue(board)!, r.GetValue(vlen), r.GetValue(max), r.GetValue(stats)));
        return cmd;
    }

    private static int Run(string path, string boardName, int? vlen, ulong maxInstructions, bool stats)
    {
        if (maxInstructions == 0) throw TinyOdlException.At("--max-instructions", "must be at least 1");
        var board = CommonOptions.LoadBoard(boardName, vlen);
        var program = ElfProgram.Load(path);
        using var stdout = Console.OpenStandardOutput();
        using var stderr = Console.OpenStandardError();
        var result = Simulator.Run(program, MachineConfig.FromBoard(board), stdout, stderr, new SimulationOptions { MaxInstructions = maxInstructions });
        if (result.Stop != StopKind.Exited)
            Console.Error.WriteLine($"tinyodl sim: {result.Report}");
        else if (result.FirstTrap is { } trap)
            Console.Error.WriteLine($"tinyodl sim: the program took a trap: {trap}");
        if (stats)
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"tinyodl sim: {result.Instret:N0} instructions retired in {result.Elapsed.TotalSeconds:F3} s ({result.Mips:F1} MIPS), exit status {result.ExitStatus}"));
        return result.ExitStatus;
    }
}

using System.Diagnostics;

namespace MlRounding.Samples.Tests;

/// <summary>Runs a sample program (built next to this test assembly by the project references) in a new process.</summary>
internal static class SampleProcess
{
    public static (int ExitCode, string Stdout, string Stderr) Run(string program, params string[] args) =>
        RunDll(Path.Combine(AppContext.BaseDirectory, program + ".dll"), args);

    /// <summary>
    /// Runs a sample from its own output folder (same configuration, framework and runtime as this test assembly), for a
    /// sample whose dependencies cannot share this folder.
    /// </summary>
    public static (int ExitCode, string Stdout, string Stderr) RunFromOwnFolder(string program, params string[] args)
    {
        string tests = Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory);
        int bin = tests.LastIndexOf($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal);
        string repo = Path.GetFullPath(Path.Combine(tests[..bin], "..", ".."));
        return RunDll(Path.Combine(repo, "Samples", program, tests[(bin + 1)..], program + ".dll"), args);
    }

    private static (int ExitCode, string Stdout, string Stderr) RunDll(string dll, string[] args)
    {
        Assert.IsTrue(File.Exists(dll), dll);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        start.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(180_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{Path.GetFileName(dll)} did not finish in 3 minutes");
        }

        return (process.ExitCode, stdout.Result.Replace("\r\n", "\n"), stderr.Result);
    }

    /// <summary>A temporary file path that the caller deletes.</summary>
    public static string TempPath(string extension) => Path.Combine(Path.GetTempPath(), $"mlrounding-{Guid.NewGuid():N}{extension}");
}

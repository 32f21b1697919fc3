using System.Diagnostics;

namespace MlRounding.Samples.Tests;

/// <summary>Runs a sample program (built next to this test assembly by the project references) in a new process.</summary>
internal static class SampleProcess
{
    public static (int ExitCode, string Stdout, string Stderr) Run(string program, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, program + ".dll");
        Assert.IsTrue(File.Exists(dll), dll);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
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
            Assert.Fail($"{program} did not finish in 3 minutes");
        }

        return (process.ExitCode, stdout.Result.Replace("\r\n", "\n"), stderr.Result);
    }

    /// <summary>A temporary file path that the caller deletes.</summary>
    public static string TempPath(string extension) => Path.Combine(Path.GetTempPath(), $"mlrounding-{Guid.NewGuid():N}{extension}");
}

using System.Diagnostics;
using MlRounding.Cli;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary>Cancelling <c>mlround train</c> (a token, or SIGTERM on the real program; Ctrl+C/SIGINT takes the same path,
/// but a shell that starts a job in the background without job control makes it ignore SIGINT, so the test sends
/// SIGTERM) stops training, exits with 130 and leaves no file, not even a temporary one.</summary>
[TestClass]
public sealed class CancellationTests
{
    /// <summary>Cancels the token when the first epoch line is written.</summary>
    private sealed class CancelOnFirstEpoch(CancellationTokenSource source) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value?.StartsWith("epoch 1:", StringComparison.Ordinal) == true)
            {
                source.Cancel();
            }
        }
    }

    [TestMethod]
    public void CancelledToken_StopsBeforeTheNextEpoch_Exit130_NoFile()
    {
        using var temp = new TempFolder();
        string dir = temp.Path;
        using var source = new CancellationTokenSource();
        var stderr = new CancelOnFirstEpoch(source);
        int code = MlroundCli.Run(new[] { "train", "--data", CliRunner.Data("digits.csv"), "--epochs", "50", "--out", Path.Combine(dir, "model.zip") }, new StringWriter(), stderr, cancellation: source.Token);
        Assert.AreEqual(MlroundCli.Cancelled, code, stderr.ToString());
        string[] lines = stderr.ToString().TrimEnd().Split('\n').Where(l => !l.StartsWith("task: ", StringComparison.Ordinal)).ToArray();
        Assert.HasCount(2, lines, "training stopped before a second epoch ended: " + stderr);
        StringAssert.StartsWith(lines[0], "epoch 1:");
        Assert.AreEqual("cancelled: nothing was written.", lines[1].TrimEnd());
        Assert.IsEmpty(Directory.GetFileSystemEntries(dir), "no model and no temporary file");
    }

    [TestMethod, TestCategory(TestLanes.Slow)]
    public void SigTerm_OnTheRealProgram_Exit130_NoFile()
    {
        using var temp = new TempFolder();
        string dir = temp.Path;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "mlround.dll"), "train", "--data", CliRunner.Data("digits.csv"), "--epochs", "100000", "--out", Path.Combine(dir, "model.zip") })
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        var firstEpoch = new TaskCompletionSource();
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }

            if (e.Data?.StartsWith("epoch 1:", StringComparison.Ordinal) == true)
            {
                firstEpoch.TrySetResult();
            }
        };
        process.BeginErrorReadLine();
        Assert.IsTrue(firstEpoch.Task.Wait(120_000), "training started: " + stderr);
        using (var kill = Process.Start("kill", new[] { "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) }))
        {
            kill.WaitForExit();
        }

        bool exited = process.WaitForExit(30_000);
        if (!exited)
        {
            process.Kill(entireProcessTree: true);
        }

        Assert.IsTrue(exited, "the program stopped after SIGTERM");
        process.WaitForExit();
        Assert.AreEqual(MlroundCli.Cancelled, process.ExitCode, stderr.ToString());
        StringAssert.Contains(stderr.ToString(), "cancelled: nothing was written.");
        Assert.IsEmpty(Directory.GetFileSystemEntries(dir), "no model and no temporary file");
    }
}

using MlRounding.Cli;

namespace MlRounding.Samples.Tests.Mlround;

/// <summary>Runs the mlround command line in-process and captures its output.</summary>
internal static class CliRunner
{
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = MlroundCli.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Writes <paramref name="lines"/> as a CSV in <paramref name="folder"/> and trains on it (with <paramref name="flags"/>); returns the CSV's and the model's paths. Fails the test if training fails.</summary>
    public static (string Data, string Model) Train(string folder, IEnumerable<string> lines, params string[] flags)
    {
        string data = Path.Combine(folder, "train.csv"), model = Path.Combine(folder, "m.zip");
        File.WriteAllLines(data, lines);
        var (code, _, stderr) = Run(new[] { "train", "--data", data, "--out", model }.Concat(flags).ToArray());
        Assert.AreEqual(0, code, stderr);
        return (data, model);
    }

    /// <summary>A bundled data file, copied next to the tests.</summary>
    public static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "data", name);

    public static string[][] Rows(string csv) =>
        csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => line.Trim().Split(',')).ToArray();
}

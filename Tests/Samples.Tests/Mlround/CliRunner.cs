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

    /// <summary>A bundled data file, copied next to the tests.</summary>
    public static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "data", name);

    public static string[][] Rows(string csv) =>
        csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => line.Trim().Split(',')).ToArray();
}

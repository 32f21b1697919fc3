using System.CommandLine;
using MlRounding.Cli.Commands;
using Spectre.Console;

namespace MlRounding.Cli;

/// <summary>The <c>mlround</c> command line: builds the commands and maps failures to exit codes.</summary>
internal static class MlroundCli
{
    /// <summary>Exit code of a usage or input error (bad option, unknown op, missing file).</summary>
    public const int UsageError = 2;

    /// <summary>Exit code of any other failure.</summary>
    public const int Failure = 1;

    /// <summary>Exit code of a run cancelled by Ctrl+C or SIGTERM (128 + SIGINT, as shells report it).</summary>
    public const int Cancelled = 130;

    /// <summary>Runs one command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="stdout">Results (tables, CSV, the JSON line).</param>
    /// <param name="stderr">Progress and errors.</param>
    /// <param name="terminal">A live console on stderr for progress bars, or null for plain progress lines.</param>
    /// <param name="cancellation">Stops training between steps; nothing is written then.</param>
    /// <returns>The exit code.</returns>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, IAnsiConsole? terminal = null, CancellationToken cancellation = default)
    {
        var root = new RootCommand("mlround: trainable rounding for ML.NET")
        {
            OpCommand.Create(stdout),
            CompareCommand.Create(stdout, stderr, cancellation),
            TrainCommand.Create(stdout, stderr, terminal, cancellation),
            QuantizeCommand.Create(stdout, stderr, cancellation),
            EvaluateCommand.CreateEvaluate(stdout, stderr),
            EvaluateCommand.CreatePredict(stdout, stderr),
            ExportCommand.Create(stdout),
        };

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            stderr.WriteLine("error: " + parsed.Errors[0].Message); // the first is the cause; the rest follow from it

            return UsageError;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("cancelled: nothing was written.");
            return Cancelled;
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or DirectoryNotFoundException or FormatException or NotSupportedException)
        {
            stderr.WriteLine("error: " + FirstLine(e.Message));
            return UsageError;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            stderr.WriteLine("error: " + FirstLine(e.Message));
            return Failure;
        }
    }

    /// <summary>The first line of an exception message, without .NET's " (Parameter '...')" suffix.</summary>
    internal static string FirstLine(string message)
    {
        int end = message.IndexOf('\n');
        string line = end < 0 ? message : message[..end];
        int parameter = line.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return (parameter < 0 ? line : line[..parameter]).TrimEnd();
    }
}

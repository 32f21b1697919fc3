using Spectre.Console;
using MlRounding.Trainers;

namespace MlRounding.Cli;

/// <summary>
/// Shows training progress: a live bar (epoch, loss, validation metric, elapsed time) when stderr is a terminal,
/// one plain line per epoch otherwise (logs, pipes, tests).
/// </summary>
internal static class TrainingDisplay
{
    /// <summary>A console for the live bar on stderr, or null when stderr is redirected or not interactive.</summary>
    public static IAnsiConsole? Terminal()
    {
        if (Console.IsErrorRedirected)
        {
            return null;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Profile.Capabilities.Interactive ? console : null;
    }

    /// <summary>Runs <paramref name="train"/>, giving it the reporter that draws its progress.</summary>
    /// <param name="terminal">The live console, or null for plain lines.</param>
    /// <param name="lines">Where plain lines go.</param>
    /// <param name="maxEpoch">The epoch count the bar fills up to until training reports its own (early stopping completes it).</param>
    /// <param name="validationName">What the validation metric is ("accuracy" or "rmse").</param>
    /// <param name="train">The training.</param>
    public static T Run<T>(IAnsiConsole? terminal, TextWriter lines, int maxEpoch, string validationName, Func<IProgress<QatProgress>, T> train)
    {
        if (terminal is null)
        {
            return train(new Lines(lines, validationName));
        }

        // Below 100 columns the description is short and the bar narrow, so that the line never wraps (at 80 columns the
        // long form pushed the percentage onto lines of its own).
        bool narrow = terminal.Profile.Width < 100;
        return terminal.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = narrow ? 12 : 40 }, new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask("training", maxValue: maxEpoch);
                T result = train(new Bar(task, maxEpoch, validationName, narrow));
                task.Value = task.MaxValue;
                return result;
            });
    }

    private static string Describe(QatProgress p, int? maxEpoch, string validationName) => FormattableString.Invariant(
        $"epoch {p.Epoch}{(maxEpoch is int m ? "/" + m : "")}: loss {p.TrainingLoss:0.0000}") +
        (double.IsNaN(p.ValidationMetric) ? "" : FormattableString.Invariant($", validation {validationName} {p.ValidationMetric:0.0000}")) +
        (p.BestEpoch > 0 ? FormattableString.Invariant($", kept epoch {p.BestEpoch}") : "");

    private sealed class Lines(TextWriter writer, string validationName) : IProgress<QatProgress>
    {
        public void Report(QatProgress value) => writer.WriteLine(Describe(value, null, validationName));
    }

    /// <summary>The short form, at most 36 characters: "60/60 loss 0.123 acc 0.968 kept 59".</summary>
    internal static string Compact(QatProgress p, int maxEpoch, string validationName) => FormattableString.Invariant(
        $"{p.Epoch}/{maxEpoch} loss {p.TrainingLoss:0.000}") +
        (double.IsNaN(p.ValidationMetric) ? "" : FormattableString.Invariant($" {(validationName == "accuracy" ? "acc" : validationName)} {p.ValidationMetric:0.000}")) +
        (p.BestEpoch > 0 ? FormattableString.Invariant($" kept {p.BestEpoch}") : "");

    private sealed class Bar(ProgressTask task, int maxEpoch, string validationName, bool narrow) : IProgress<QatProgress>
    {
        public void Report(QatProgress value)
        {
            if (value.MaxEpoch > 0)
            {
                (maxEpoch, task.MaxValue) = (value.MaxEpoch, value.MaxEpoch);
            }

            task.Description = Markup.Escape(narrow ? Compact(value, maxEpoch, validationName) : Describe(value, maxEpoch, validationName));
            task.Value = value.Epoch;
        }
    }
}

namespace Btmc.Cli;

/// <summary>A one-line progress bar redrawn in place (carriage return) on standard error: <c>[####......] 12/40</c>.</summary>
internal sealed class ProgressBar(TextWriter writer, int total)
{
    private const int Width = 30;
    private readonly Lock _gate = new();
    private int _done;
    private int _total = total;

    /// <summary>One more done.</summary>
    public void Advance()
    {
        lock (_gate)
        {
            _done++;
            Draw();
        }
    }

    /// <summary>Done of total (the total may grow: verification adds tasks).</summary>
    public void Show(int done, int total)
    {
        lock (_gate)
        {
            _done = done;
            _total = total;
            Draw();
        }
    }

    public void Finish()
    {
        lock (_gate)
        {
            writer.WriteLine();
        }
    }

    private void Draw()
    {
        var filled = _total <= 0 ? 0 : Math.Clamp(_done * Width / _total, 0, Width);
        writer.Write($"\r[{new string('#', filled)}{new string('.', Width - filled)}] {_done}/{_total}");
    }
}

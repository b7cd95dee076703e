using System.Globalization;

namespace Btmc.Compute.Jobs;

/// <summary>A range of Blender frames written <c>first-last</c> (or one frame), 0 ≤ first ≤ last ≤ <see cref="MaxFrame"/>.</summary>
public static class FrameRange
{
    /// <summary>Blender's last frame number (MAXFRAME).</summary>
    public const int MaxFrame = 1_048_574;

    public static bool TryParse(string text, out int first, out int last)
    {
        first = last = 0;
        var parts = text.Split('-');
        if (parts.Length is not (1 or 2)
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out first)
            || !int.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out last))
        {
            return false;
        }

        return first <= last && last <= MaxFrame;
    }

    public static string Format(int first, int last) => string.Create(CultureInfo.InvariantCulture, $"{first}-{last}");
}

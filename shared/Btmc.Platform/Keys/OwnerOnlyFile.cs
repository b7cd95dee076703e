namespace Btmc.Platform.Keys;

/// <summary>Secrets on disk: a file readable and writable by its owner only (mode 0600), written atomically.</summary>
public static class OwnerOnlyFile
{
    /// <summary>Writes <paramref name="content"/> to a temporary file created with mode 0600, flushes it to disk, and
    /// renames it over <paramref name="path"/>, so a reader sees the old file or the whole new one.</summary>
    public static void Write(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".");
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temp, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }
}

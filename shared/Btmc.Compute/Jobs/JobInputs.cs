using Btmc.Ledger;

namespace Btmc.Compute.Jobs;

/// <summary>
/// Where a job's input files may come from: the one folder of the server set aside for them (the embedded default,
/// <c>&lt;data&gt;/compute-inputs</c>), or blobs of the deployment's own storage account (Azure). Nothing else: a path
/// or URL a partner sends never reaches another file of the server (a key, the ledger's database) nor another host
/// (server-side request forgery through the pool's fetch).
/// </summary>
/// <param name="Folder">The inputs folder, a full path; null when local paths are refused (Azure).</param>
/// <param name="BlobService">The storage account's blob endpoint; null when URLs are refused (the embedded default).</param>
public sealed record JobInputs(string? Folder, Uri? BlobService)
{
    /// <summary>Inputs from one local folder (created when missing).</summary>
    public static JobInputs InFolder(string folder)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        Directory.CreateDirectory(full);
        return new JobInputs(full, null);
    }

    /// <summary>Inputs from blobs of one storage account.</summary>
    public static JobInputs InBlobs(Uri blobService) => new(null, blobService);

    /// <summary>Refuses <paramref name="source"/> unless it is a file in <see cref="Folder"/> (no link leading out of it)
    /// or an https URL of <see cref="BlobService"/>'s host.</summary>
    /// <exception cref="Refused">Forbidden: anywhere else; invalid: a file in the folder that does not exist.</exception>
    public void Check(string field, string source)
    {
        if (Uri.TryCreate(source, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            if (BlobService is null)
            {
                throw new Refused(RefusalKind.Forbidden, field, $"'{source}' is a URL; this server reads job inputs only from its inputs folder {Folder}.");
            }

            if (uri.Scheme != Uri.UriSchemeHttps || uri.UserInfo.Length > 0
                || !string.Equals(uri.Host, BlobService.Host, StringComparison.OrdinalIgnoreCase) || uri.Port != BlobService.Port)
            {
                throw new Refused(RefusalKind.Forbidden, field, $"'{source}' is not an https blob of this deployment's storage account ({BlobService.Host}); job inputs are read only from there.");
            }

            return;
        }

        var path = uri is { IsFile: true } ? uri.LocalPath : source;
        if (Folder is null)
        {
            throw new Refused(RefusalKind.Forbidden, field, $"'{source}' is a server path; job inputs are blobs of this deployment's storage account ({BlobService?.Host}).");
        }

        var full = Path.GetFullPath(path);
        if (!IsInside(full) || LeadsOutside(full))
        {
            throw new Refused(RefusalKind.Forbidden, field, $"'{source}' is outside the inputs folder {Folder}; put the file there.");
        }

        if (!File.Exists(full))
        {
            throw Refused.Invalid(field, $"{source} does not exist on the server.");
        }
    }

    private bool IsInside(string full) => full.StartsWith(Folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>Whether the file, or a folder between it and <see cref="Folder"/>, is a link to somewhere outside the folder.</summary>
    private bool LeadsOutside(string full)
    {
        for (var at = full; at.Length > Folder!.Length; at = Path.GetDirectoryName(at)!)
        {
            FileSystemInfo entry = Directory.Exists(at) ? new DirectoryInfo(at) : new FileInfo(at);
            if (entry.LinkTarget is not null && entry.ResolveLinkTarget(returnFinalTarget: true) is { } target
                && !IsInside(Path.TrimEndingDirectorySeparator(target.FullName)))
            {
                return true;
            }
        }

        return false;
    }
}

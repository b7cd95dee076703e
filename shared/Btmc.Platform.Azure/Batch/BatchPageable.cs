using Azure;

namespace Btmc.Platform.Azure.Batch;

/// <summary>
/// A Batch list operation as an <see cref="AsyncPageable{T}"/>: the first page from the list URL, then each
/// <c>odata.nextLink</c> until a page has none. The continuation token is the next link.
/// </summary>
internal sealed class BatchPageable<T>(
    Func<string?, int?, CancellationToken, Task<Page<T>>> fetchPage,
    CancellationToken cancellationToken) : AsyncPageable<T>(cancellationToken)
    where T : notnull
{
    public override async IAsyncEnumerable<Page<T>> AsPages(string? continuationToken = null, int? pageSizeHint = null)
    {
        do
        {
            var page = await fetchPage(continuationToken, pageSizeHint, CancellationToken).ConfigureAwait(false);
            continuationToken = page.ContinuationToken;
            yield return page;
        }
        while (!string.IsNullOrEmpty(continuationToken));
    }
}

// A builder's charts page: every metric its latest finished build recorded, over time.
import { one } from '../api';
import { Loading } from '../components/common';
import { LazyCharts } from '../components/lazy-charts';
import { useAsync } from '../hooks';
import { Link } from '../router';

export function BuilderCharts({ builderid }: { builderid: number }) {
  const builder = useAsync(() => one(`/builders/${builderid}`), [builderid]);
  return (
    <main>
      <Loading state={builder}>
        {(b) =>
          b === null ? (
            <p class="error">There is no builder {builderid}.</p>
          ) : (
            <h1>
              <Link to={`/builders/${builderid}`}>{String(b.name)}</Link>: charts
            </h1>
          )
        }
      </Loading>
      <LazyCharts builderid={builderid} />
    </main>
  );
}

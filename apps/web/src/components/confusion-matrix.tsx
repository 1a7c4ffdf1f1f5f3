/** Rows are true classes, columns predicted; darker cells hold more items. */
export function ConfusionMatrix({ classes, matrix }: { classes: string[]; matrix: number[][] }) {
  const max = Math.max(1, ...matrix.flat());
  return (
    <div className="scroll-x">
      <table className="confusion" data-testid="confusion">
        <caption className="muted">rows: true class · columns: predicted class</caption>
        <thead>
          <tr>
            <td />
            {classes.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, i) => (
            <tr key={classes[i] ?? i}>
              <th scope="row">{classes[i]}</th>
              {row.map((n, j) => {
                const share = n / max;
                return (
                  <td
                    key={j}
                    style={{
                      background: `rgba(24, 90, 157, ${share.toFixed(3)})`,
                      color: share > 0.5 ? '#fff' : '#1d2428',
                    }}
                  >
                    {n}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

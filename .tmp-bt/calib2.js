const N=1e6; const a=new Float64Array(N).map((_, i)=>100+Math.sin(i)); const u=new Uint8Array(N);
function loop(e){ let cash=1e5, q=0; for(let i=0;i<N;i++){ const c=a[i]; let v=0; if(q!==0){v=q*c;} const eq=cash+v; e[0][i]=eq;e[1][i]=cash;e[2][i]=v;e[3][i]=v<0?-v:v;e[4][i]=q!==0?1:0; if(u[i]===1){q=q?0:10;cash-=q*c;} } return cash; }
const keep=[1,2,3,4,5].map(()=>new Float64Array(N));
for(let k=0;k<8;k++){let t=performance.now(); loop(keep); const a1=performance.now()-t; t=performance.now(); loop([1,2,3,4,5].map(()=>new Float64Array(N))); const a2=performance.now()-t; console.log('reuse',a1.toFixed(1),'fresh',a2.toFixed(1));}

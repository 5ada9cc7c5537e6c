const N=1e6; const close=new Float64Array(N).map((_, i)=>100+Math.sin(i/50)*5); const high=close.map(x=>x+1), low=close.map(x=>x-1), open=close;
const enL=new Uint8Array(N), exL=new Uint8Array(N), z=new Uint8Array(N); for(let i=0;i<N;i+=100){enL[i]=1;exL[i+50]=1;}
class Sim { constructor(){ this.cash=1e5; this.qty=new Float64Array(1); this.hasPend=new Uint8Array(1); this.extreme=new Float64Array(1); this.trBars=new Float64Array(1); this.last=new Float64Array(1); this.lastTs=new Float64Array(1); this.pt=new Float64Array(1); this.n=0; }
  fill(j){ this.hasPend[0]=0; const d=this.pt[0]-this.qty[0]; this.cash-=d*open[j]; this.qty[0]=this.pt[0]; }
  decide(j,q,eq){ this.n++; this.hasPend[0]=1; this.pt[0]= q===0? Math.floor(eq*0.95/close[j]) : 0; }
  run(variant){ const eqA=new Float64Array(N), qA=new Float64Array(N); const {qty,hasPend,extreme,trBars,last,lastTs}=this; let ex=0,gs=0,eq=0;
    for(let i=0;i<N;i++){ const j=i; const T=i*86400000;
      if(hasPend[0]===1) this.fill(j);
      const q=qty[0]; const c=close[j]; let v=0;
      if(q!==0){ if(variant>0){trBars[0]++; if(q>0){ if(high[j]>extreme[0]) extreme[0]=high[j]; } else if(low[j]<extreme[0]) extreme[0]=low[j];} v=q*c; if(variant>1){last[0]=c; lastTs[0]=T;} }
      const cash=this.cash; eq=cash+v; eqA[i]=eq; qA[i]=q;
      if(variant>2 && q!==0){ ex++; gs+=(v<0?-v:v)/eq; }
      const exit = q>0 ? exL[j]|z[j] : q<0 ? z[j]|enL[j] : 0;
      if(exit===1 || (q===0 ? enL[j]|z[j] : 0)===1) this.decide(j,q,eq);
    } return eq+ex+gs; } }
for(let k=0;k<6;k++){ const r=[]; for(const v of [0,1,2,3]){ const s=new Sim(); const c0=process.cpuUsage(); s.run(v); const c=process.cpuUsage(c0); r.push(v+':'+((c.user+c.system)/1000).toFixed(1)); } console.log(r.join(' ')); }
